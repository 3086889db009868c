"""What a reader sees of a transfer between trusts, shared by the steward's page and the API so
both always say the same: the other trust, the counts, the state, the deadline, why it ended,
and for an offer received, the sender's decision record in brief (per class, as recounted when
the offer arrived). The pages add words: each state, each reason, an accept_asset proposal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext

from cltd.models import Direction, Proposal, Transfer, TransferState
from cltd.rules.codes import MESSAGES, Code
from cltd.services import offers
from cltd.web.i18n import pick_language


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def decision_summary(offer: Mapping[str, Any]) -> dict[str, Any] | None:
    """The sender's decision record, as the offer carried it: outcome and per-class counts."""
    record = offer.get("decision")
    if not isinstance(record, Mapping):
        return None
    rows = record.get("classResult")
    classes = [
        {
            "member_class": str(row.get("memberClass", "")),
            "seats": _count(row.get("seats")),
            "yes": _count(row.get("yesCount")),
            "no": _count(row.get("noCount")),
            "abstain": _count(row.get("abstainCount")),
            "passes": row.get("passes") is True,
        }
        for row in (rows if isinstance(rows, list) else [])
        if isinstance(row, Mapping)
    ]
    return {
        "id": record.get("id") if isinstance(record.get("id"), str) else None,
        "outcome": "passed" if record.get("outcome") == "passed" else "rejected",
        "bylaws_version": record.get("bylawsVersion"),
        "closed_at": record.get("closedAt"),
        "classes": classes,
    }


def transfer_view(transfer: Transfer, deciding: Proposal | None = None) -> dict[str, Any]:
    """DECIDING: the accept_asset proposal that puts an offer received to the board, if any."""
    incoming = transfer.direction == Direction.INCOMING
    proposal_id = transfer.proposal_id
    if incoming and deciding is not None:
        proposal_id = deciding.id
    return {
        "id": transfer.id,
        "transfer_id": transfer.transfer_id,
        "direction": transfer.direction,
        "state": transfer.state,
        "peer": {
            "id": transfer.peer.id,
            "name": transfer.peer.name,
            "origin": transfer.peer.origin,
        },
        "title": dict(transfer.title),
        "records": transfer.records,
        "contributors": transfer.contributors,
        "expires_at": transfer.expires_at.isoformat(),
        "created_at": transfer.created_at.isoformat(),
        "updated_at": transfer.updated_at.isoformat(),
        "reason_code": transfer.reason_code,
        "reason": transfer.reason,
        "asset_id": transfer.asset_id,
        "proposal_id": proposal_id,
        "proposal_status": deciding.status if incoming and deciding is not None else None,
        "decision": decision_summary(transfer.offer) if incoming else None,
    }


def state_names() -> dict[str, dict[str, str]]:
    return {
        Direction.INCOMING: {
            TransferState.OFFERED: gettext("Waiting for our decision"),
            TransferState.ACCEPTED: gettext("Accepted: the records are being fetched"),
            TransferState.STAGED: gettext("Records received and sealed: waiting for the handover"),
            TransferState.COMPLETED: gettext("Received: the asset is held by this trust"),
            TransferState.REFUSED: gettext("Refused"),
            TransferState.EXPIRED: gettext("Expired before it was accepted"),
        },
        Direction.OUTGOING: {
            TransferState.OFFERED: gettext("Offered: waiting for their decision"),
            TransferState.ACCEPTED: gettext("Accepted by them: handing over"),
            TransferState.STAGED: gettext("Accepted by them: handing over"),
            TransferState.COMPLETED: gettext("Transferred: custody moved to them"),
            TransferState.REFUSED: gettext("Refused by them: the asset stays here"),
            TransferState.EXPIRED: gettext("Expired: the asset stays here"),
        },
    }


def reason_words(transfer: Transfer) -> str | None:
    """Why a transfer ended: our own words for a reason we know by its code, else the reason
    as the steward who refused wrote it."""
    if transfer.reason_code is None and not transfer.reason:
        return None
    try:
        code = Code(transfer.reason_code or "")
    except ValueError:
        return transfer.reason
    message = MESSAGES.get(code)
    if message is None:
        return transfer.reason
    if "%(problem)s" in message:
        return gettext(message, problem=transfer.reason or "")
    return gettext(message)


def offer_title(transfer: Transfer) -> str:
    return pick_language(transfer.title)[0] or transfer.transfer_id


def board_proposal_text(transfer: Transfer) -> tuple[str, str]:
    """The title and text of the accept_asset proposal that puts TRANSFER to the board."""
    return offers.board_proposal_words(transfer, offer_title(transfer), gettext)
