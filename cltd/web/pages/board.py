"""The board's pages: proposals by state, one proposal with its per-class tallies and the
seat holder's vote buttons, drafting a proposal. Every member may read them (transparency,
invariant 5); only seat holders vote, only seat holders and stewards draft and carry out."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from cltd.adapters.clock import now
from cltd.models import ProposalStatus
from cltd.rules.bylaws import Acceptor, ProposalKind
from cltd.rules.roles import Permission, allows
from cltd.rules.tally import Ballot
from cltd.services import assets as asset_service
from cltd.services import custody, governance, ledger, members, offers, peers
from cltd.services.errors import ServiceError
from cltd.web.auth import current_member, current_roles, permission_required, signin_required
from cltd.web.board_view import proposal_view
from cltd.web.forms import BallotForm, PaymentForm, PlainForm, ProposalForm
from cltd.web.i18n import current_language, pick_language
from cltd.web.identity import trust_base
from cltd.web.pages import bp
from cltd.web.problems import service_error_detail
from cltd.web.state import db, state, writes
from cltd.web.transfer_view import state_names

ORDER = (
    ProposalStatus.OPEN,
    ProposalStatus.DRAFT,
    ProposalStatus.PASSED,
    ProposalStatus.EXECUTED,
    ProposalStatus.REJECTED,
)


def kind_names() -> dict[str, str]:
    return {
        ProposalKind.TRANSFER: gettext("Transfer an asset"),
        ProposalKind.LICENCE: gettext("License an asset"),
        ProposalKind.RETIRE: gettext("Retire an asset"),
        ProposalKind.LIFT_LOCK: gettext("Lift an asset's lock"),
        ProposalKind.AMEND_BYLAWS: gettext("Amend the bylaws"),
        ProposalKind.ACCEPT_ASSET: gettext("Accept an asset offered by another trust"),
    }


def status_names() -> dict[str, str]:
    return {
        ProposalStatus.DRAFT: gettext("Drafts"),
        ProposalStatus.OPEN: gettext("Open for voting"),
        ProposalStatus.PASSED: gettext("Passed, to be carried out"),
        ProposalStatus.REJECTED: gettext("Rejected"),
        ProposalStatus.EXECUTED: gettext("Carried out"),
    }


def _proposal_form() -> ProposalForm:
    form = ProposalForm()
    # An offer from another trust is put to the board from the offer itself (transfers page).
    form.kind.choices = [
        SelectChoice(k, name) for k, name in kind_names().items() if k != ProposalKind.ACCEPT_ASSET
    ]
    form.asset_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(a.id), pick_language(a.title)[0] + (" 🔒" if a.locked else ""))
        for a in asset_service.held_assets(db())
    ]
    form.access_request_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(
            str(r.id),
            f"#{r.id} · {r.client.name} · {pick_language(r.asset.title)[0]} · {r.purpose}",
        )
        for r in governance.pending_requests(db())
    ]
    form.recipient_peer_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(p.id), f"{p.name} · {p.origin}") for p in peers.list_peers(db())
    ]
    return form


@bp.get("/board")
@writes
@signin_required
def board() -> str:
    at = now()
    for proposal in governance.list_proposals(db()):
        governance.settle(db(), proposal, at)
    return _render_board(_proposal_form())


@bp.post("/board/proposals")
@permission_required(Permission.ProposalsDraft)
def draft_proposal() -> Response | tuple[str, int]:
    form = _proposal_form()
    if not form.validate_on_submit():
        return _render_board(form), 400
    try:
        asset = (
            asset_service.get_held(db(), int(form.asset_id.data)) if form.asset_id.data else None
        )
        proposal = governance.propose(
            db(),
            state().bylaws,
            author=current_member(),  # type: ignore[arg-type]
            kind=ProposalKind(form.kind.data),
            title=form.title.data or "",
            text=form.text.data or "",
            at=now(),
            asset=asset,
            recipient=form.recipient.data,
            recipient_locked=bool(form.recipient_locked.data),
            recipient_peer_id=int(form.recipient_peer_id.data)
            if form.recipient_peer_id.data
            else None,
            access_request_id=int(form.access_request_id.data)
            if form.access_request_id.data
            else None,
            bylaws_text=form.bylaws_text.data,
        )
    except ServiceError as error:
        field = getattr(form, error.field or "", None) or form.title
        field.errors = [service_error_detail(error)]
        return _render_board(form), error.status
    flash(gettext("Your proposal is drafted. Open it for voting when it is ready."))
    return redirect(url_for("pages.proposal", proposal_id=proposal.id))


def _render_board(form: ProposalForm) -> str:
    at, member = now(), current_member()
    views = [proposal_view(db(), p, member, at) for p in governance.list_proposals(db())]
    may_draft = allows(current_roles(), Permission.ProposalsDraft)
    # Offers from other trusts our bylaws give to the board, not yet put to it.
    waiting = (
        [(t, pick_language(t.title)) for t in offers.waiting_for_board(db(), at)]
        if may_draft and state().bylaws.transfers.incoming == Acceptor.BOARD
        else []
    )
    return render_template(
        "board/index.html",
        grouped={s: [v for v in views if v["status"] == s] for s in ORDER},
        status_names=status_names(),
        kind_names=kind_names(),
        form=form,
        may_draft=may_draft,
        requests=governance.pending_requests(db()),
        offers_waiting=waiting,
        plain_form=PlainForm(),
    )


@bp.get("/board/proposals/<int:proposal_id>")
@writes
@signin_required
def proposal(proposal_id: int) -> tuple[str, int]:
    try:
        found = governance.get_proposal(db(), proposal_id)
    except ServiceError:
        abort(404)
    at = now()
    governance.settle(db(), found, at)
    return _render_proposal(found)


def _render_proposal(found, status: int = 200):  # type: ignore[no-untyped-def]
    at, member = now(), current_member()
    view = proposal_view(db(), found, member, at)
    roles = current_roles()
    asset = found.asset
    payments = [
        line
        for line in ledger.ledger(db(), member.id if member else None)
        if line.payment.proposal_id == found.id
    ]
    bylaws = state().bylaws
    language = current_language()
    offer = offers.of_proposal(db(), found)
    return render_template(
        "board/proposal.html",
        p=view,
        proposal=found,
        asset=asset,
        asset_title=pick_language(asset.title)[0] if asset else None,
        offer=offer,
        offer_title=pick_language(offer.title) if offer else None,
        offer_states=state_names(),
        may_see_transfers=allows(roles, Permission.TransfersDecide),
        kind_names=kind_names(),
        status_names=status_names(),
        class_names={c.key: c.name(language) for c in bylaws.classes},
        ballot_form=BallotForm(),
        plain_form=PlainForm(),
        payment_form=PaymentForm(),
        may_open=view["status"] == ProposalStatus.DRAFT
        and member is not None
        and (member.id == found.created_by or member.is_steward),
        may_execute=view["status"] == ProposalStatus.PASSED
        and allows(roles, Permission.ProposalsExecute),
        may_record_payment=view["status"] == ProposalStatus.EXECUTED
        and found.kind == ProposalKind.LICENCE
        and allows(roles, Permission.PaymentsRecord),
        payments=payments,
        votes_public=bylaws.votes_public,
        named_ballots=governance.named_ballots(db(), found) if bylaws.votes_public else [],
    ), status


@bp.post("/board/proposals/<int:proposal_id>/open")
@permission_required(Permission.ProposalsDraft)
def open_proposal(proposal_id: int) -> Response:
    member = current_member()
    assert member is not None
    try:
        found = governance.get_locked(db(), proposal_id)
        governance.open_voting(
            db(), state().bylaws, found, actor=members.actor_of(member), at=now(), by=member
        )
    except ServiceError as error:
        flash(service_error_detail(error), "error")
    else:
        flash(gettext("Voting is open."))
    return redirect(url_for("pages.proposal", proposal_id=proposal_id))


@bp.post("/board/proposals/<int:proposal_id>/ballot")
@signin_required
def vote(proposal_id: int) -> Response:
    form = BallotForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        governance.cast(
            db(),
            proposal_id,
            member=current_member(),  # type: ignore[arg-type]
            choice=Ballot(form.choice.data),
            at=now(),
        )
    except ServiceError as error:
        flash(service_error_detail(error), "error")
    else:
        flash(gettext("Your ballot is counted. You can change it until voting closes."))
    return redirect(url_for("pages.proposal", proposal_id=proposal_id))


@bp.post("/board/proposals/<int:proposal_id>/execute")
@permission_required(Permission.ProposalsExecute)
def execute(proposal_id: int) -> Response:
    try:
        custody.execute(
            db(),
            proposal_id,
            actor=members.actor_of(current_member()),
            at=now(),
            bylaws=state().bylaws,
            our_base=trust_base(),
        )
    except ServiceError as error:
        flash(service_error_detail(error), "error")
    else:
        flash(gettext("The decision has been carried out."))
    return redirect(url_for("pages.proposal", proposal_id=proposal_id))


@bp.post("/board/proposals/<int:proposal_id>/payments")
@permission_required(Permission.PaymentsRecord)
def record_payment(proposal_id: int) -> Response:
    form = PaymentForm()
    if not form.validate_on_submit():
        flash(gettext("Write the amount like 1250.00."), "error")
        return redirect(url_for("pages.proposal", proposal_id=proposal_id))
    try:
        ledger.record_payment(
            db(),
            state().bylaws,
            proposal_id,
            amount_cents=ledger.cents(form.amount.data or ""),
            currency=state().settings.currency,
            note=form.note.data or "",
            actor=members.actor_of(current_member()),
            at=now(),
        )
    except ServiceError as error:
        flash(service_error_detail(error), "error")
    else:
        flash(gettext("The payment is recorded and shared."))
    return redirect(url_for("pages.proposal", proposal_id=proposal_id))
