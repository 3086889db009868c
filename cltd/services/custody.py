"""Custody of an asset changes HERE and nowhere else (invariant 3): only by executing a
proposal that passed under the bylaws, in the caller's transaction, with its audit entry.
Every other effect of a board decision (a licence, adopted bylaws) is carried out here too, so
that a decision has exactly one way to take effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cltd.models import (
    AccessRequest,
    AdoptedBylaws,
    Asset,
    AssetStatus,
    Grant,
    Proposal,
    ProposalStatus,
    RequestStatus,
)
from cltd.rules.bylaws import Bylaws, ProposalKind
from cltd.rules.codes import Code
from cltd.services import access, audit
from cltd.services.audit import AuditAction
from cltd.services.errors import Conflict, Forbidden
from cltd.services.governance import check_amendment, get_locked, settle


def execute(
    session: Session,
    proposal_id: int,
    *,
    actor: str,
    at: datetime,
    bylaws: Bylaws | None = None,
) -> Proposal:
    """Carry out a passed proposal, once. BYLAWS (those in force) are needed for a licence
    (how long its grant lasts) and an amendment (checked again against today's purposes)."""
    proposal = settle(session, get_locked(session, proposal_id), at)
    if proposal.status != ProposalStatus.PASSED:
        raise Conflict(Code.PROPOSAL_NOT_PASSED, "proposal_id")
    kind = ProposalKind(proposal.kind)
    asset = (
        session.get(Asset, proposal.asset_id, with_for_update=True) if proposal.asset_id else None
    )
    details: dict[str, object] = {
        "kind": kind.value,
        "asset": proposal.asset_id,
        "recipient": proposal.recipient,
    }
    if kind in (ProposalKind.TRANSFER, ProposalKind.RETIRE, ProposalKind.LIFT_LOCK):
        if asset is None or asset.status != AssetStatus.HELD:
            raise Conflict(Code.ASSET_NOT_HELD, "asset_id")
        if kind == ProposalKind.TRANSFER:
            # Checked again at execution: the lock may have been set since the proposal.
            if asset.locked and not proposal.recipient_locked:
                raise Forbidden(Code.LOCKED_ASSET_UNLOCKED_RECIPIENT, "recipient_locked")
            asset.status = AssetStatus.TRANSFERRED
            asset.custodian, asset.decision_id = proposal.recipient, proposal.id
        elif kind == ProposalKind.RETIRE:
            asset.status = AssetStatus.RETIRED
            asset.decision_id = proposal.id
        else:
            asset.locked = False
        asset.modified_at = at
    elif kind == ProposalKind.LICENCE:
        if asset is None or asset.status != AssetStatus.HELD:
            raise Conflict(Code.ASSET_NOT_HELD, "asset_id")
        assert bylaws is not None, "a licence needs the bylaws in force"
        details["grant"] = _grant_licence(session, proposal, bylaws, at).id
    elif kind == ProposalKind.AMEND_BYLAWS:
        assert bylaws is not None, "an amendment is checked against the bylaws in force"
        adopted = check_amendment(bylaws, proposal.bylaws_text or "")
        session.add(
            AdoptedBylaws(
                version=adopted.version,
                digest=adopted.digest,
                text=proposal.bylaws_text,
                proposal_id=proposal.id,
                adopted_at=at,
            )
        )
        details.update(version=adopted.version, digest=adopted.digest)
    proposal.status = ProposalStatus.EXECUTED
    proposal.executed_at = at
    action = {
        ProposalKind.LICENCE: AuditAction.LICENCE_GRANTED,
        ProposalKind.AMEND_BYLAWS: AuditAction.BYLAWS_AMENDED,
    }.get(kind, AuditAction.CUSTODY_CHANGED)
    entry = audit.record(
        session,
        actor=actor,
        action=action,
        subject=f"proposal:{proposal.id}",
        at=at,
        details=details,
    )
    if asset is not None and kind != ProposalKind.LICENCE:
        asset.change_seq = entry.seq  # the catalog shows the change (or the tombstone)
    session.flush()
    return proposal


def _grant_licence(session: Session, proposal: Proposal, bylaws: Bylaws, at: datetime) -> Grant:
    request = session.get(AccessRequest, proposal.access_request_id, with_for_update=True)
    if request is None or request.status != RequestStatus.PENDING:
        raise Conflict(Code.ACCESS_REQUEST_NOT_PENDING, "access_request_id")
    request.status = RequestStatus.GRANTED
    return access.issue_grant(session, bylaws, request, at=at, proposal_id=proposal.id)
