"""The trust's own life events: founding and adopting bylaws."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cltd.rules.bylaws import Bylaws
from cltd.services import audit
from cltd.services.audit import AuditAction


def record_founding(
    session: Session, *, trust_name: str, bylaws: Bylaws, public_key_hex: str, at: datetime
) -> None:
    audit.record(
        session,
        actor="steward:cli",
        action=AuditAction.TRUST_INITIALISED,
        subject="trust",
        at=at,
        details={"name": trust_name, "signing_key": public_key_hex},
    )
    audit.record(
        session,
        actor="steward:cli",
        action=AuditAction.BYLAWS_ADOPTED,
        subject="bylaws",
        at=at,
        details={"version": bylaws.version, "digest": bylaws.digest},
    )
