"""A member leaves or asks for erasure: their data key is destroyed and their records deleted
in one transaction (crypto-shredding, invariant 6). Their audit trail stays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from cltd.models import Consent, Member, MemberStatus, OAuthToken, Record, Seat, WebSession
from cltd.rules.purposes import PurposeTaxonomy
from cltd.services import audit, consents, datakeys
from cltd.services.audit import AuditAction


def erase_member(
    session: Session, taxonomy: PurposeTaxonomy, member: Member, *, actor: str, at: datetime
) -> int:
    """Shred and delete everything the member contributed; end their sessions and tokens, and
    tell every consumer holding their data (the same notice as a withdrawal)."""
    for consent in consents.live_consents(session, member.id, at):
        if consent.purpose in taxonomy:
            consents.queue_notices(session, taxonomy, member, consent.asset_id, consent.purpose, at)
    records = (
        session.scalar(
            select(func.count()).select_from(Record).where(Record.contributor_id == member.id)
        )
        or 0
    )
    datakeys.destroy(session, member.id)
    session.execute(delete(Record).where(Record.contributor_id == member.id))
    session.execute(
        update(Consent)
        .where(Consent.member_id == member.id, Consent.withdrawn_at.is_(None))
        .values(withdrawn_at=at)
    )
    session.execute(
        update(OAuthToken)
        .where(OAuthToken.member_id == member.id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    session.execute(delete(WebSession).where(WebSession.member_id == member.id))
    session.execute(update(Seat).where(Seat.holder_id == member.id).values(holder_id=None))
    member.status = MemberStatus.LEFT
    member.password_hash = None
    audit.record(
        session,
        actor=actor,
        action=AuditAction.MEMBER_ERASED,
        subject=f"member:{member.id}",
        at=at,
        details={"records_deleted": records},
    )
    return records
