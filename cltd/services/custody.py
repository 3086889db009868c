"""Custody of an asset changes HERE and nowhere else (invariant 3): only by executing a
proposal that passed under the bylaws, in the caller's transaction, with its audit entry.
Every other effect of a board decision (a licence, adopted bylaws) is carried out here too, so
that a decision has exactly one way to take effect."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cltd.adapters.vault import KeyRing
from cltd.models import (
    AccessRequest,
    AdoptedBylaws,
    Asset,
    AssetStatus,
    Consent,
    Direction,
    Grant,
    Proposal,
    ProposalStatus,
    Record,
    RequestStatus,
    Transfer,
    TransferContributor,
    TransferState,
)
from cltd.rules.bylaws import Bylaws, ProposalKind
from cltd.rules.codes import Code
from cltd.services import access, audit, transfers, transfers_in
from cltd.services.audit import AuditAction
from cltd.services.errors import Conflict, Forbidden
from cltd.services.governance import check_amendment, get_locked, settle

Signer = Callable[[dict[str, Any], datetime], dict[str, Any]]


def execute(
    session: Session,
    proposal_id: int,
    *,
    actor: str,
    at: datetime,
    bylaws: Bylaws | None = None,
    our_base: str | None = None,
) -> Proposal:
    """Carry out a passed proposal, once. BYLAWS (those in force) are needed for a licence
    (how long its grant lasts), an amendment (checked again against today's purposes) and an
    offer to a peer trust (how long it stays open). OUR_BASE, the trust's public origin, is
    needed to offer an asset to a peer trust: custody moves only when that trust accepts."""
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
    if asset is not None:
        transfers.refuse_if_offered(session, asset.id)
    offer: Transfer | None = None
    if kind in (ProposalKind.TRANSFER, ProposalKind.RETIRE, ProposalKind.LIFT_LOCK):
        if asset is None or asset.status != AssetStatus.HELD:
            raise Conflict(Code.ASSET_NOT_HELD, "asset_id")
        if kind == ProposalKind.TRANSFER and proposal.recipient_peer_id is not None:
            # Checked again at execution, from the peer's own signed description.
            peer = transfers.recipient_peer(session, proposal.recipient_peer_id)
            if asset.locked and not transfers.peer_is_locked(peer):
                raise Forbidden(Code.PEER_NOT_LOCKED, "recipient_peer_id")
            if not our_base:
                raise Conflict(Code.BASE_URL_REQUIRED, "base_url")
            assert bylaws is not None, "an offer's lifetime is in the bylaws in force"
            offer = transfers.make_offer(
                session,
                proposal,
                asset,
                our_base=our_base,
                offer_days=bylaws.transfers.offer_days,
                at=at,
            )
            details["transfer"] = offer.transfer_id
        elif kind == ProposalKind.TRANSFER:
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
        if offer is None:
            asset.modified_at = at
    elif kind == ProposalKind.ACCEPT_ASSET:
        incoming = transfers_in.accept(
            session, proposal.transfer_pk or 0, actor=actor, at=at, by_board=True
        )
        details["transfer"] = incoming.transfer_id
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
        ProposalKind.ACCEPT_ASSET: AuditAction.TRANSFER_ACCEPTED,
    }.get(kind, AuditAction.TRANSFER_OFFERED if offer else AuditAction.CUSTODY_CHANGED)
    entry = audit.record(
        session,
        actor=actor,
        action=action,
        subject=f"proposal:{proposal.id}",
        at=at,
        details=details,
    )
    if asset is not None and kind != ProposalKind.LICENCE and offer is None:
        asset.change_seq = entry.seq  # the catalog shows the change (or the tombstone)
    session.flush()
    return proposal


def _grant_licence(session: Session, proposal: Proposal, bylaws: Bylaws, at: datetime) -> Grant:
    request = session.get(AccessRequest, proposal.access_request_id, with_for_update=True)
    if request is None or request.status != RequestStatus.PENDING:
        raise Conflict(Code.ACCESS_REQUEST_NOT_PENDING, "access_request_id")
    request.status = RequestStatus.GRANTED
    return access.issue_grant(session, bylaws, request, at=at, proposal_id=proposal.id)


def hand_over(
    session: Session,
    ring: KeyRing,
    transfer_id: str,
    *,
    accepted_digest: str,
    at: datetime,
    sign: Signer,
) -> Transfer:
    """The recipient accepted exactly the records it fetched (ACCEPTED_DIGEST): custody moves
    to it, here, in one transaction: the records leave, the asset becomes a tombstone naming
    its new custodian, and a signed receipt is kept to answer any retry of the same acceptance.
    Anything else (refused, expired, changed since fetched) leaves the asset as it was."""
    transfer = transfers.get_transfer(session, transfer_id, Direction.OUTGOING, lock=True)
    if transfer.state == TransferState.COMPLETED:
        if transfer.package_digest == accepted_digest:
            return transfer  # the same acceptance again: its receipt is already kept
        raise Conflict(Code.TRANSFER_REPLAYED, "packageDigest")
    transfers.check_open(transfer, at)
    asset = session.get(Asset, transfer.asset_id, with_for_update=True)
    assert asset is not None
    if asset.status != AssetStatus.HELD:
        raise Conflict(Code.ASSET_NOT_HELD, "transferId")
    # What the digest covers must not change before this commits: a withdrawal or an erasure
    # waits for the handover (and then applies here, to records no longer held) rather than
    # slipping between the digest and the move (PostgreSQL; SQLite writers are serialised).
    contributors = select(Record.contributor_id).where(Record.asset_id == asset.id)
    session.execute(select(Record.id).where(Record.asset_id == asset.id).with_for_update())
    session.execute(select(Consent.id).where(Consent.member_id.in_(contributors)).with_for_update())
    current = transfers.digest(transfers.package(session, ring, transfer))
    if current != accepted_digest:
        raise Conflict(Code.TRANSFER_PACKAGE_CHANGED, "packageDigest")
    per_member = session.execute(
        select(Record.contributor_id, func.count())
        .where(Record.asset_id == asset.id)
        .group_by(Record.contributor_id)
    ).all()
    for member_id, count in per_member:
        session.add(
            TransferContributor(transfer_pk=transfer.id, member_id=member_id, record_count=count)
        )
    session.execute(delete(Record).where(Record.asset_id == asset.id))
    recipient = transfers.agent_of(transfer.peer.origin)
    asset.status = AssetStatus.TRANSFERRED
    asset.custodian, asset.decision_id = transfer.peer.name, transfer.proposal_id
    asset.modified_at = at
    entry = audit.record(
        session,
        actor=f"peer:{transfer.peer_id}",
        action=AuditAction.TRANSFER_COMPLETED,
        subject=f"asset:{asset.id}",
        at=at,
        details={
            "transfer": transfer.transfer_id,
            "recipient": transfer.peer.name,
            "recipient_trust": recipient,
            "records": transfer.records,
            "contributors": transfer.contributors,
            "package": current,
        },
    )
    asset.change_seq = entry.seq
    transfer.state, transfer.package_digest, transfer.updated_at = (
        TransferState.COMPLETED,
        current,
        at,
    )
    transfer.receipt = sign(
        transfers.message(
            transfer.our_base,
            "TransferReceipt",
            transfer.transfer_id,
            at,
            packageDigest=current,
            custodian=recipient,
            completedAt=at.isoformat(),
        ),
        at,
    )
    session.flush()
    return transfer


def receive(session: Session, transfer: Transfer, receipt: dict[str, Any], at: datetime) -> None:
    """The sender's signed receipt arrived: the staged asset is ours from now on, served
    under the consents its contributors carried."""
    if transfer.state != TransferState.STAGED or transfer.asset_id is None:
        return  # done already, or another worker is fetching again: its round finishes it
    asset = session.get(Asset, transfer.asset_id, with_for_update=True)
    assert asset is not None
    asset.status = AssetStatus.HELD
    asset.modified_at = at
    entry = audit.record(
        session,
        actor=f"peer:{transfer.peer_id}",
        action=AuditAction.TRANSFER_COMPLETED,
        subject=f"asset:{asset.id}",
        at=at,
        details={
            "transfer": transfer.transfer_id,
            "sender": transfer.peer.name,
            "records": transfer.records,
            "contributors": transfer.contributors,
            "package": transfer.package_digest,
        },
    )
    asset.change_seq = entry.seq
    transfer.state, transfer.receipt, transfer.updated_at = TransferState.COMPLETED, receipt, at
    session.flush()
