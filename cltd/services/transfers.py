"""Transfers between trusts, the offering side. A passed transfer to a pinned peer trust is
carried out as a signed offer (custody.execute makes it; the worker sends it). The asset stays
here, unchanged, until the recipient fetches its records and sends a signed acceptance of
exactly what it fetched; custody.hand_over then moves custody in one transaction. A refusal or
an expiry leaves the asset here with its lock as it was.

The recipient's side is services/transfers_in.py; the messages both sides sign are built here.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.adapters.canonical import canonical_json, sha256_hex
from cltd.adapters.trustsigner import did_of
from cltd.adapters.vault import KeyRing, Sealed, VaultError, open_sealed, record_aad
from cltd.models import (
    OPEN_STATES,
    Asset,
    Consent,
    Direction,
    Member,
    Peer,
    Proposal,
    Record,
    Transfer,
    TransferState,
)
from cltd.rules.bylaws import Bylaws
from cltd.rules.codes import Code
from cltd.services import audit, catalog, decisions, outbox
from cltd.services.audit import AuditAction
from cltd.services.datakeys import DataKeys
from cltd.services.errors import Conflict, Forbidden, NotFound

OFFER_PATH = "/federation/offers"
REQUEST_FRESHNESS = timedelta(minutes=10)
NOT_ACCEPTED_IN_TIME = "the offer was not accepted in time"


def transfer_iri(base: str, transfer_id: str) -> str:
    return f"{base}/federation/transfers/{transfer_id}"


def agent_of(origin: str) -> str:
    return origin + "/federation/trust"


def open_outgoing(session: Session, asset_id: int) -> Transfer | None:
    return session.scalar(
        select(Transfer).where(
            Transfer.asset_id == asset_id,
            Transfer.direction == Direction.OUTGOING,
            Transfer.state.in_(OPEN_STATES),
        )
    )


def refuse_if_offered(session: Session, asset_id: int) -> None:
    """An asset on offer stays exactly as offered: no contribution, no other decision."""
    if open_outgoing(session, asset_id) is not None:
        raise Conflict(Code.ASSET_BEING_OFFERED, "asset_id")


def recipient_peer(session: Session, peer_id: int) -> Peer:
    peer = session.get(Peer, peer_id)
    if peer is None:
        raise Forbidden(Code.PEER_UNKNOWN, "recipient_peer_id")
    return peer


def peer_is_locked(peer: Peer) -> bool:
    """What the peer's signed description says of its own asset lock."""
    return peer.description.get("assetLocked") is True


def make_offer(
    session: Session,
    proposal: Proposal,
    asset: Asset,
    *,
    our_base: str,
    offer_days: int,
    at: datetime,
) -> Transfer:
    """The outgoing transfer and the outbox job that sends its offer, in the caller's
    transaction (custody.execute). The offer document is built and signed when sent."""
    peer = recipient_peer(session, proposal.recipient_peer_id or 0)
    count, contributors = _counts(session, asset.id)
    transfer = Transfer(
        transfer_id=uuid.uuid4().hex,
        direction=Direction.OUTGOING,
        state=TransferState.OFFERED,
        peer_id=peer.id,
        asset_id=asset.id,
        proposal_id=proposal.id,
        our_base=our_base,
        title=dict(asset.title),
        offer={},
        records=count,
        contributors=contributors,
        expires_at=at + timedelta(days=offer_days),
        created_at=at,
        updated_at=at,
    )
    session.add(transfer)
    outbox.enqueue(
        session, "transfer.offer", peer.origin + OFFER_PATH, {"transfer": transfer.transfer_id}, at
    )
    session.flush()
    return transfer


def _counts(session: Session, asset_id: int) -> tuple[int, int]:
    rows = session.scalars(select(Record.contributor_id).where(Record.asset_id == asset_id)).all()
    return len(rows), len(set(rows))


def get_transfer(
    session: Session, transfer_id: str, direction: Direction, *, lock: bool = False
) -> Transfer:
    query = select(Transfer).where(
        Transfer.transfer_id == transfer_id, Transfer.direction == direction
    )
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(Code.TRANSFER_UNKNOWN, "transfer")
    return found


def offer_document(
    session: Session, transfer: Transfer, bylaws: Bylaws, trust_name: str
) -> dict[str, Any]:
    """The offer (unsigned): the asset's catalog entry with its policy, the decision record it
    rests on, the counts, and who it is for."""
    trust = catalog.Trust(transfer.our_base, trust_name, did_of(transfer.our_base))
    asset = session.get(Asset, transfer.asset_id)
    proposal = session.get(Proposal, transfer.proposal_id)
    assert asset is not None and proposal is not None
    dataset = catalog.dataset(bylaws, trust, asset)
    record = decisions.record(session, trust, proposal, votes_public=bylaws.votes_public)
    record.pop("@context")
    return {
        "@context": catalog.contexts(trust.base),
        "id": transfer_iri(trust.base, transfer.transfer_id),
        "type": "TransferOffer",
        "transferId": transfer.transfer_id,
        "sender": trust.agent,
        "publisher": trust.publisher(),
        "recipient": agent_of(transfer.peer.origin),
        "dataset": dataset,
        "decision": record,
        "recordCount": transfer.records,
        "contributorCount": transfer.contributors,
        "offeredAt": transfer.created_at.isoformat(),
        "expires": transfer.expires_at.isoformat(),
    }


def message(base: str, kind: str, transfer_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """A short signed message about one transfer (a request, an acceptance, a receipt)."""
    return {
        "@context": catalog.contexts(base),
        "id": f"{transfer_iri(base, transfer_id)}#{kind}-{int(at.timestamp() * 1000)}",
        "type": kind,
        "transferId": transfer_id,
        "sender": agent_of(base),
        **fields,
    }


def package(session: Session, ring: KeyRing, transfer: Transfer) -> dict[str, Any]:
    """What moves: the asset's schema and policy, its contributors with the consents that
    cover it, and its records opened from their sealing. Plain JSON in a fixed order, so its
    digest names exactly what the recipient fetched (the acceptance quotes it)."""
    asset = session.get(Asset, transfer.asset_id)
    assert asset is not None
    records = list(
        session.scalars(select(Record).where(Record.asset_id == asset.id).order_by(Record.id))
    )
    member_ids = sorted({r.contributor_id for r in records})
    refs = {member_id: f"c{n}" for n, member_id in enumerate(member_ids, start=1)}
    keys = DataKeys(session, ring)
    keys.preload(member_ids)
    members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    consents: dict[int, list[dict[str, Any]]] = {m: [] for m in member_ids}
    for consent in session.scalars(
        select(Consent)
        .where(
            Consent.member_id.in_(member_ids),
            Consent.withdrawn_at.is_(None),
            (Consent.asset_id.is_(None)) | (Consent.asset_id == asset.id),
        )
        .order_by(Consent.id)
    ):
        consents[consent.member_id].append(
            {
                "purpose": consent.purpose,
                "grantedAt": consent.granted_at.isoformat(),
                "expiresAt": consent.expires_at.isoformat() if consent.expires_at else None,
            }
        )
    opened = []
    for row in records:
        key = keys.for_member(row.contributor_id, create=False, at=row.created_at)
        if key is None:
            raise VaultError(f"the data key of a contributor of {asset.slug} does not open")
        plain = open_sealed(
            key,
            Sealed(row.nonce, row.ciphertext),
            record_aad(asset.id, row.uid, row.contributor_id),
        )
        opened.append(
            {
                "uid": row.uid,
                "contributor": refs[row.contributor_id],
                "values": json.loads(plain),
                "createdAt": row.created_at.isoformat(),
            }
        )
    return {
        "transferId": transfer.transfer_id,
        "dataset": catalog.dataset_iri(transfer.our_base, asset),
        "asset": {
            "slug": asset.slug,
            "title": dict(asset.title),
            "description": dict(asset.description),
            "keywords": list(asset.keywords),
            "fields": list(asset.fields),
            "contributingClasses": list(asset.contributing_classes),
            "policy": dict(asset.policy),
            "locked": asset.locked,
        },
        "contributors": [
            {
                "ref": refs[m],
                "email": members[m].email,
                "name": members[m].display_name,
                "memberClass": members[m].member_class,
                "consents": consents[m],
            }
            for m in member_ids
        ],
        "records": opened,
    }


def digest(document: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(document))


def check_open(transfer: Transfer, at: datetime) -> None:
    """An outgoing offer the recipient can still act on; else why not, as the sender sees it."""
    if transfer.state == TransferState.EXPIRED or (
        transfer.state == TransferState.OFFERED and transfer.expires_at <= at
    ):
        raise Conflict(Code.TRANSFER_EXPIRED, "transferId")
    if transfer.state != TransferState.OFFERED:
        raise Conflict(Code.TRANSFER_NOT_OPEN, "transferId")


def moment_of(value: object) -> datetime | None:
    """A time with its zone, as messages write them; None for anything else."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def fresh(moment: datetime, at: datetime) -> bool:
    return abs(at - moment) <= REQUEST_FRESHNESS


def record_ending(
    session: Session,
    transfer: Transfer,
    *,
    code: str,
    reason: str,
    actor: str,
    at: datetime,
    subject: str,
) -> None:
    """The offer ended without moving the asset: expired when CODE says so, refused for any
    other reason. On either side the reason is kept and audited under SUBJECT."""
    expired = code == Code.TRANSFER_EXPIRED
    transfer.state = TransferState.EXPIRED if expired else TransferState.REFUSED
    transfer.reason_code, transfer.reason = code, reason[:500]
    transfer.updated_at = at
    audit.record(
        session,
        actor=actor,
        action=AuditAction.TRANSFER_EXPIRED if expired else AuditAction.TRANSFER_REFUSED,
        subject=subject,
        at=at,
        details={"transfer": transfer.transfer_id, "peer": transfer.peer_id, "reason": code},
    )


def settle_outgoing(
    session: Session, transfer: Transfer, *, code: str, reason: str, actor: str, at: datetime
) -> None:
    """Refused or expired: the asset stays here as it was."""
    if transfer.state not in (TransferState.OFFERED, TransferState.ACCEPTED):
        return
    record_ending(
        session,
        transfer,
        code=code,
        reason=reason,
        actor=actor,
        at=at,
        subject=f"asset:{transfer.asset_id}",
    )


def due_offers(session: Session, direction: Direction, at: datetime) -> list[Transfer]:
    """Offers still waiting for a decision whose time ran out (locked, to be ended)."""
    return list(
        session.scalars(
            select(Transfer)
            .where(
                Transfer.direction == direction,
                Transfer.state == TransferState.OFFERED,
                Transfer.expires_at <= at,
            )
            .with_for_update()
        )
    )


def expire_due(session: Session, at: datetime) -> int:
    """Offers we made that are past their expiry end as expired, the asset staying here (no
    scheduler: the worker and the transfers page call this; transfers_in ends received ones)."""
    due = due_offers(session, Direction.OUTGOING, at)
    for transfer in due:
        settle_outgoing(
            session,
            transfer,
            code=Code.TRANSFER_EXPIRED,
            reason=NOT_ACCEPTED_IN_TIME,
            actor="system:worker",
            at=at,
        )
    return len(due)


def list_transfers(session: Session) -> list[Transfer]:
    return list(session.scalars(select(Transfer).order_by(Transfer.id.desc())))
