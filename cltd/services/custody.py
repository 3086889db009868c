"""Custody of an asset changes HERE and nowhere else (invariant 3): only by executing a
proposal that passed under the bylaws, in the caller's transaction, with its audit entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cltd.models import Asset, AssetStatus, Proposal, ProposalStatus
from cltd.rules.bylaws import ProposalKind
from cltd.rules.codes import Code
from cltd.services import audit
from cltd.services.audit import AuditAction
from cltd.services.errors import Conflict, Forbidden
from cltd.services.governance import get_locked, settle


def execute(session: Session, proposal_id: int, *, actor: str, at: datetime) -> Proposal:
    proposal = settle(session, get_locked(session, proposal_id), at)
    if proposal.status != ProposalStatus.PASSED:
        raise Conflict(Code.PROPOSAL_NOT_PASSED, "proposal_id")
    kind = ProposalKind(proposal.kind)
    asset = (
        session.get(Asset, proposal.asset_id, with_for_update=True) if proposal.asset_id else None
    )
    if kind in (ProposalKind.TRANSFER, ProposalKind.RETIRE, ProposalKind.LIFT_LOCK):
        if asset is None or asset.status != AssetStatus.HELD:
            raise Conflict(Code.ASSET_NOT_HELD, "asset_id")
        if kind == ProposalKind.TRANSFER:
            # Checked again at execution: the lock may have been set since the proposal.
            if asset.locked and not proposal.recipient_locked:
                raise Forbidden(Code.LOCKED_ASSET_UNLOCKED_RECIPIENT, "recipient_locked")
            asset.status = AssetStatus.TRANSFERRED
        elif kind == ProposalKind.RETIRE:
            asset.status = AssetStatus.RETIRED
        else:
            asset.locked = False
        asset.modified_at = at
    proposal.status = ProposalStatus.EXECUTED
    proposal.executed_at = at
    audit.record(
        session,
        actor=actor,
        action=AuditAction.CUSTODY_CHANGED,
        subject=f"proposal:{proposal.id}",
        at=at,
        details={"kind": kind.value, "asset": proposal.asset_id, "recipient": proposal.recipient},
    )
    return proposal
