"""A consumer asks for (asset, purpose): granted at once for an open purpose the policy permits,
pending for the board on a board-review purpose, refused with the reason otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.models import AccessRequest, Asset, Grant, OAuthClient, RequestStatus
from cltd.rules.bylaws import Bylaws
from cltd.rules.codes import Code
from cltd.rules.policy import AccessOutcome, access_request_outcome
from cltd.services import audit
from cltd.services.assets import policy_of
from cltd.services.audit import AuditAction
from cltd.services.errors import InvalidInput, NotFound

_STATUS = {
    AccessOutcome.GRANTED: RequestStatus.GRANTED,
    AccessOutcome.BOARD_REVIEW: RequestStatus.PENDING,
    AccessOutcome.REFUSED: RequestStatus.REFUSED,
}


@dataclass(frozen=True)
class Answer:
    request: AccessRequest
    grant: Grant | None


def request_access(
    session: Session,
    bylaws: Bylaws,
    *,
    client: OAuthClient,
    asset: Asset,
    purpose: str,
    justification: str,
    at: datetime,
) -> Answer:
    justification = justification.strip()
    if not 10 <= len(justification) <= 4000:
        raise InvalidInput(Code.JUSTIFICATION_REQUIRED, "justification")
    outcome, decision = access_request_outcome(policy_of(asset), bylaws.taxonomy, purpose)
    request = AccessRequest(
        client_pk=client.id,
        asset_id=asset.id,
        purpose=purpose,
        justification=justification,
        status=_STATUS[outcome],
        reason=decision.code.value if decision.code else None,
        created_at=at,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=f"client:{client.client_id}",
        action=AuditAction.ACCESS_REQUESTED,
        subject=f"asset:{asset.id}",
        at=at,
        details={
            "request": request.id,
            "purpose": purpose,
            "outcome": outcome.value,
            "reason": request.reason,
        },
    )
    grant = None
    if outcome == AccessOutcome.GRANTED:
        grant = issue_grant(session, bylaws, request, at=at)
    return Answer(request, grant)


def issue_grant(
    session: Session,
    bylaws: Bylaws,
    request: AccessRequest,
    *,
    at: datetime,
    proposal_id: int | None = None,
) -> Grant:
    """A grant answering REQUEST: at once for an open purpose, or when the board's licence
    for a board-review purpose is carried out (PROPOSAL_ID)."""
    grant = Grant(
        client_pk=request.client_pk,
        asset_id=request.asset_id,
        purpose=request.purpose,
        request_id=request.id,
        starts_at=at,
        expires_at=at + timedelta(days=bylaws.access_grant_days),
    )
    session.add(grant)
    session.flush()
    details: dict[str, object] = {
        "client": request.client.client_id,
        "asset": request.asset_id,
        "purpose": request.purpose,
        "expires_at": grant.expires_at.isoformat(),
    }
    if proposal_id is not None:
        details["proposal"] = proposal_id
    audit.record(
        session,
        actor="system",
        action=AuditAction.GRANT_ISSUED,
        subject=f"grant:{grant.id}",
        at=at,
        details=details,
    )
    return grant


def grants_of(session: Session, client: OAuthClient, at: datetime) -> list[Grant]:
    return list(
        session.scalars(
            select(Grant)
            .where(Grant.client_pk == client.id, Grant.revoked_at.is_(None), Grant.expires_at > at)
            .order_by(Grant.id)
        )
    )


def revoke_grant(session: Session, grant_id: int, *, actor: str, at: datetime) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(Code.GRANT_UNKNOWN, "grant_id")
    if grant.revoked_at is None:
        grant.revoked_at = at
        audit.record(
            session,
            actor=actor,
            action=AuditAction.GRANT_REVOKED,
            subject=f"grant:{grant.id}",
            at=at,
        )
    return grant
