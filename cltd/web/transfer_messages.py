"""Messages between trusts about a transfer, each signed by its sender and verified against
the key this trust pinned for it before anything is done:

- POST /federation/offers                    a peer offers us an asset (we keep the offer);
- POST /federation/transfers/<id>/package    the recipient fetches the records it accepted;
- POST /federation/transfers/<id>/acceptance the recipient accepts what it fetched: custody
                                             moves here, and the signed receipt is the answer;
- POST /federation/transfers/<id>/refusal    the recipient says no (or the offer expired);
- GET  /federation/transfers/<id>            our signed offer, for anyone to read.

A refusal is a problem+json 4xx with a stable code; the same message sent again gets the same
answer, so either side can retry after a crash or a lost reply.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, request
from sqlalchemy import select

from cltd.adapters import crashpoints
from cltd.adapters.clock import now
from cltd.models import Direction, Peer, Transfer
from cltd.rules.codes import Code
from cltd.services import audit, custody, peers, transfers, transfers_in
from cltd.services.audit import AuditAction
from cltd.services.errors import Forbidden, InvalidInput
from cltd.web.identity import published, trust_base
from cltd.web.state import db, keyring

bp = Blueprint("transfer_messages", __name__)


def _json(document: dict[str, Any], status: int = 200) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False), status=status, mimetype="application/ld+json"
    )


def _refused(error: peers.PeerRefused) -> InvalidInput:
    return InvalidInput(Code.TRANSFER_BAD_DOCUMENT, "proof", {"problem": error.detail})


def _from(peer: Peer, transfer_id: str, kind: str) -> tuple[dict[str, Any], datetime]:
    """The request's body: a message of KIND about TRANSFER_ID, signed by PEER's pinned key;
    with when it was signed."""
    try:
        document = peers.read_signed(request.get_data())
        signed_at = peers.check_message(document, peer)
    except peers.PeerRefused as error:
        raise _refused(error) from None
    if document.get("type") != kind or document.get("transferId") != transfer_id:
        raise InvalidInput(
            Code.TRANSFER_BAD_DOCUMENT, "type", {"problem": f"it is not a {kind} for this transfer"}
        )
    if document.get("sender") != transfers.agent_of(peer.origin):
        raise Forbidden(Code.TRANSFER_UNKNOWN_TRUST, "sender")
    if not transfers.fresh(signed_at, now()):
        raise InvalidInput(
            Code.TRANSFER_BAD_DOCUMENT, "proof", {"problem": "it was signed too long ago"}
        )
    return document, signed_at


@bp.post("/federation/offers")
def receive_offer() -> Response:
    try:
        offer = peers.read_signed(request.get_data())
    except peers.PeerRefused as error:
        raise _refused(error) from None
    sender = offer.get("sender")
    origin = sender.removesuffix("/federation/trust") if isinstance(sender, str) else ""
    peer = db().scalar(select(Peer).where(Peer.origin == origin))
    if peer is None:
        raise Forbidden(Code.TRANSFER_UNKNOWN_TRUST, "sender")
    try:
        peers.check_message(offer, peer)
    except peers.PeerRefused as error:
        raise _refused(error) from None
    transfer, new = transfers_in.receive_offer(db(), peer, offer, our_base=trust_base(), at=now())
    db().commit()
    crashpoints.reached("offer.received")
    return _json({"transferId": transfer.transfer_id, "state": transfer.state}, 202 if new else 200)


def _outgoing(transfer_id: str, *, lock: bool = False) -> Transfer:
    return transfers.get_transfer(db(), transfer_id, Direction.OUTGOING, lock=lock)


@bp.post("/federation/transfers/<transfer_id>/package")
def serve_package(transfer_id: str) -> Response:
    transfer = _outgoing(transfer_id, lock=True)
    package_request, _signed_at = _from(transfer.peer, transfer_id, "PackageRequest")
    transfers.check_open(transfer, now())
    # Each request names its moment to the microsecond, and is answered once: a copy of a
    # signed request is no key to the records.
    requested = transfers.moment_of(package_request.get("requestedAt"))
    if requested is None or not transfers.fresh(requested, now()):
        raise InvalidInput(
            Code.TRANSFER_BAD_DOCUMENT, "requestedAt", {"problem": "it names no recent moment"}
        )
    if transfer.last_request_at is not None and requested <= transfer.last_request_at:
        raise InvalidInput(
            Code.TRANSFER_BAD_DOCUMENT, "proof", {"problem": "the request was already answered"}
        )
    transfer.last_request_at = requested
    package = transfers.package(db(), keyring(), transfer)
    audit.record(
        db(),
        actor=f"peer:{transfer.peer_id}",
        action=AuditAction.TRANSFER_PACKAGE_SERVED,
        subject=f"asset:{transfer.asset_id}",
        at=now(),
        details={"transfer": transfer_id, "package": transfers.digest(package)},
    )
    crashpoints.reached("package.built")
    return Response(json.dumps(package, ensure_ascii=False), mimetype="application/json")


@bp.post("/federation/transfers/<transfer_id>/acceptance")
def accept_handover(transfer_id: str) -> Response:
    transfer = _outgoing(transfer_id)
    acceptance, _signed_at = _from(transfer.peer, transfer_id, "TransferAcceptance")
    accepted = acceptance.get("packageDigest")
    if not isinstance(accepted, str):
        raise InvalidInput(Code.TRANSFER_BAD_DOCUMENT, "packageDigest", {"problem": "no digest"})
    done = custody.hand_over(
        db(),
        keyring(),
        transfer_id,
        accepted_digest=accepted,
        at=now(),
        sign=published,
    )
    receipt = done.receipt
    db().commit()
    crashpoints.reached("handover.committed")
    assert receipt is not None
    return _json(dict(receipt))


@bp.post("/federation/transfers/<transfer_id>/refusal")
def refusal(transfer_id: str) -> Response:
    transfer = _outgoing(transfer_id, lock=True)
    message, _signed_at = _from(transfer.peer, transfer_id, "TransferRefusal")
    code = str(message.get("reasonCode") or "refused")
    transfers.settle_outgoing(
        db(),
        transfer,
        code=code[:60],
        reason=str(message.get("reason") or "")[:500],
        actor=f"peer:{transfer.peer_id}",
        at=now(),
    )
    return _json({"transferId": transfer_id, "state": transfer.state})


@bp.get("/federation/transfers/<transfer_id>")
def offer(transfer_id: str) -> Response:
    transfer = _outgoing(transfer_id)
    if not transfer.offer:
        abort(404)
    return _json(dict(transfer.offer))
