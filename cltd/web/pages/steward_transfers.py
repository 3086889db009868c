"""Transfers between trusts, for the steward: the offers other trusts made us and the offers
we made, each with its state in plain words. An offer received is accepted or refused by the
steward, or put to the board as an accept_asset proposal, as our bylaws say
(transfers.incoming). Board members may put an offer to the board too (from the board page)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import UNDECIDED, Direction, ProposalStatus, TransferState
from cltd.rules.bylaws import Acceptor
from cltd.rules.roles import Permission
from cltd.services import members, offers, transfers_in
from cltd.services.errors import ServiceError
from cltd.web.auth import current_member, permission_required
from cltd.web.forms import PlainForm, RefuseOfferForm
from cltd.web.i18n import current_language, pick_language
from cltd.web.pages import bp
from cltd.web.problems import service_error_detail
from cltd.web.state import db, state, writes
from cltd.web.transfer_view import (
    board_proposal_text,
    reason_words,
    state_names,
    transfer_view,
)


def transfer_rows() -> list[dict[str, Any]]:
    at = now()
    deciding = offers.deciding_proposals(db(), at)
    rows = []
    for transfer in offers.list_all(db(), at):
        view = transfer_view(transfer, deciding.get(transfer.id))
        view["title_text"], view["title_language"] = pick_language(transfer.title)
        view["reason_text"] = reason_words(transfer)
        view["expires"] = transfer.expires_at
        view["open"] = transfer.state == TransferState.OFFERED and transfer.expires_at > at
        view["board_pending"] = view["proposal_status"] in UNDECIDED
        view["board_rejected"] = view["proposal_status"] == ProposalStatus.REJECTED
        rows.append(view)
    return rows


def _render(
    status: int = 200, refusing: int | None = None, form: RefuseOfferForm | None = None
) -> tuple[str, int]:
    rows = transfer_rows()
    return render_template(
        "steward/transfers.html",
        received=[r for r in rows if r["direction"] == Direction.INCOMING],
        sent=[r for r in rows if r["direction"] == Direction.OUTGOING],
        state_names=state_names(),
        steward_decides=state().bylaws.transfers.incoming == Acceptor.STEWARD,
        class_names={c.key: c.name(current_language()) for c in state().bylaws.classes},
        plain_form=PlainForm(),
        refuse_form=form if form is not None else RefuseOfferForm(formdata=None),
        refusing=refusing,
    ), status


@bp.get("/steward/transfers")
@writes  # a read ends the offers whose time ran out
@permission_required(Permission.TransfersDecide)
def steward_transfers() -> tuple[str, int]:
    return _render()


@bp.post("/steward/transfers/<int:transfer_id>/accept")
@permission_required(Permission.TransfersDecide)
def accept_transfer(transfer_id: int) -> Response:
    try:
        transfer = transfers_in.accept_by_steward(
            db(),
            state().bylaws,
            offers.get(db(), transfer_id).id,
            actor=members.actor_of(current_member()),
            at=now(),
        )
    except ServiceError as error:
        flash(service_error_detail(error), "error")
    else:
        flash(
            gettext(
                "Accepted. The records are fetched from %(trust)s; the asset is this trust's "
                "once they hand it over.",
                trust=transfer.peer.name,
            )
        )
    return redirect(url_for("pages.steward_transfers"))


@bp.post("/steward/transfers/<int:transfer_id>/refuse")
@permission_required(Permission.TransfersDecide)
def refuse_transfer(transfer_id: int) -> Response | tuple[str, int]:
    form = RefuseOfferForm()
    if not form.validate_on_submit():
        return _render(400, transfer_id, form)
    try:
        transfer = transfers_in.refuse(
            db(),
            state().bylaws,
            offers.get(db(), transfer_id).id,
            reason=form.reason.data or "",
            actor=members.actor_of(current_member()),
            at=now(),
        )
    except ServiceError as error:
        if error.field != "reason":
            flash(service_error_detail(error), "error")
            return redirect(url_for("pages.steward_transfers"))
        form.reason.errors = [service_error_detail(error)]
        return _render(error.status, transfer_id, form)
    flash(
        gettext(
            "Refused. %(trust)s is told why; the asset stays with it.", trust=transfer.peer.name
        )
    )
    return redirect(url_for("pages.steward_transfers"))


@bp.post("/steward/transfers/<int:transfer_id>/propose")
@permission_required(Permission.ProposalsDraft)
def propose_transfer(transfer_id: int) -> Response:
    """Draft the accept_asset proposal and open it (a refusal is the problem page: nothing of
    it is kept)."""
    member = current_member()
    assert member is not None
    transfer = offers.get(db(), transfer_id)
    title, text = board_proposal_text(transfer)
    proposal = offers.put_to_board(
        db(), state().bylaws, transfer.id, author=member, title=title, text=text, at=now()
    )
    flash(gettext("The offer is put to the board: voting is open."))
    return redirect(url_for("pages.proposal", proposal_id=proposal.id))
