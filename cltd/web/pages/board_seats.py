"""The board's seats (a steward seats members of the matching class, with terms), the
elections in which each class elects its seats, and the licence ledger."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from cltd.adapters.clock import now
from cltd.models import Member, MemberStatus
from cltd.rules.roles import Permission, allows
from cltd.services import elections as election_service
from cltd.services import ledger, members
from cltd.services import seats as seat_service
from cltd.services.errors import ServiceError
from cltd.web.auth import current_member, current_roles, permission_required, signin_required
from cltd.web.board_view import election_view
from cltd.web.forms import CandidateForm, ElectionForm, ElectionVoteForm, SeatForm
from cltd.web.i18n import current_language
from cltd.web.pages import bp
from cltd.web.problems import service_error_detail
from cltd.web.state import db, state, writes


def _start_of(day: date) -> datetime:
    """Midnight at the trust's place: a steward means their own calendar day."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(state().settings.timezone))


def _class_names() -> dict[str, str]:
    return {c.key: c.name(current_language()) for c in state().bylaws.classes}


def _active_members() -> list[Member]:
    return [m for m in members.list_members(db()) if m.status == MemberStatus.ACTIVE]


def _seat_form() -> SeatForm:
    form = SeatForm()
    names = _class_names()
    form.seat.choices = [
        SelectChoice(f"{s.member_class}:{s.number}", f"{names[s.member_class]} {s.number}")
        for s in seat_service.board(db(), state().bylaws)
    ]
    form.member_id.choices = [
        SelectChoice(str(m.id), f"{m.display_name} · {names.get(m.member_class, m.member_class)}")
        for m in _active_members()
    ]
    return form


def _render_seats(form: SeatForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "board/seats.html",
        seats=seat_service.board(db(), state().bylaws),
        class_names=_class_names(),
        form=form,
        may_assign=allows(current_roles(), Permission.SeatsAssign),
        at=now(),
    ), status


@bp.get("/board/seats")
@signin_required
def board_seats() -> tuple[str, int]:
    return _render_seats(_seat_form())


@bp.post("/board/seats")
@permission_required(Permission.SeatsAssign)
def assign_seat() -> Response | tuple[str, int]:
    form = _seat_form()
    if not form.validate_on_submit():
        return _render_seats(form, 400)
    member_class, _colon, number = (form.seat.data or "").partition(":")
    holder = db().get(Member, int(form.member_id.data or 0))
    if holder is None or not number.isdigit():
        form.member_id.errors = [gettext("There is no such member.")]
        return _render_seats(form, 422)
    try:
        seat_service.assign_seat(
            db(),
            state().bylaws,
            member=holder,
            member_class=member_class,
            number=int(number),
            actor=members.actor_of(current_member()),
            at=now(),
            term_end=_start_of(form.term_end.data) if form.term_end.data else None,
        )
    except ServiceError as error:
        form.member_id.errors = [service_error_detail(error)]
        return _render_seats(form, error.status)
    flash(gettext("%(name)s now holds the seat.", name=holder.display_name))
    return redirect(url_for("pages.board_seats"))


def _election_form() -> ElectionForm:
    form = ElectionForm()
    form.member_class.choices = [SelectChoice(k, n) for k, n in _class_names().items()]
    return form


def _render_elections(form: ElectionForm, status: int = 200) -> tuple[str, int]:
    at, member = now(), current_member()
    found = [
        election_service.settle(db(), state().bylaws, e, at)
        for e in election_service.list_elections(db())
    ]
    return render_template(
        "board/elections.html",
        elections=[election_view(db(), e, member, at) for e in found],
        class_names=_class_names(),
        form=form,
        may_call=allows(current_roles(), Permission.ElectionsCall),
    ), status


@bp.get("/board/elections")
@writes
@signin_required
def elections() -> tuple[str, int]:
    return _render_elections(_election_form())


@bp.post("/board/elections")
@permission_required(Permission.ElectionsCall)
def call_election() -> Response | tuple[str, int]:
    form = _election_form()
    if not form.validate_on_submit():
        return _render_elections(form, 400)
    try:
        election = election_service.call_election(
            db(),
            state().bylaws,
            member_class=form.member_class.data or "",
            seat_numbers=[int(n) for n in (form.seat_numbers.data or "").split(",")],
            opens_at=_start_of(form.opens_on.data),  # type: ignore[arg-type]
            closes_at=_start_of(form.closes_on.data),  # type: ignore[arg-type]
            term_months=int(form.term_months.data or 0),
            actor=members.actor_of(current_member()),
            at=now(),
        )
    except ServiceError as error:
        field = {
            "seat_numbers": form.seat_numbers,
            "closes_at": form.closes_on,
            "term_months": form.term_months,
        }.get(error.field or "", form.member_class)
        field.errors = [service_error_detail(error)]
        return _render_elections(form, error.status)
    flash(gettext("The election is called. Add its candidates before voting opens."))
    return redirect(url_for("pages.election", election_id=election.id))


def _candidate_form(member_class: str) -> CandidateForm:
    form = CandidateForm()
    form.member_id.choices = [
        SelectChoice(str(m.id), m.display_name)
        for m in _active_members()
        if m.member_class == member_class
    ]
    return form


@bp.get("/board/elections/<int:election_id>")
@writes
@signin_required
def election(election_id: int) -> tuple[str, int]:
    return _render_election(election_id)


def _render_election(
    election_id: int, candidate_form: CandidateForm | None = None, status: int = 200
) -> tuple[str, int]:
    try:
        found = election_service.get_election(db(), election_id)
    except ServiceError:
        abort(404)
    at = now()
    election_service.settle(db(), state().bylaws, found, at)
    view = election_view(db(), found, current_member(), at)
    return render_template(
        "board/election.html",
        e=view,
        class_names=_class_names(),
        candidate_form=candidate_form or _candidate_form(found.member_class),
        vote_form=ElectionVoteForm(),
        may_add=allows(current_roles(), Permission.ElectionsCall) and view["status"] == "upcoming",
    ), status


@bp.post("/board/elections/<int:election_id>/candidates")
@permission_required(Permission.ElectionsCall)
def add_candidate(election_id: int) -> Response | tuple[str, int]:
    found = election_service.get_election(db(), election_id)
    form = _candidate_form(found.member_class)
    if not form.validate_on_submit():
        return _render_election(election_id, form, 400)
    candidate = db().get(Member, int(form.member_id.data or 0))
    try:
        if candidate is None:
            raise election_service.candidate_unknown()
        election_service.add_candidate(
            db(),
            election_id,
            member=candidate,
            statement=form.statement.data or "",
            actor=members.actor_of(current_member()),
            at=now(),
        )
    except ServiceError as error:
        form.member_id.errors = [service_error_detail(error)]
        return _render_election(election_id, form, error.status)
    flash(gettext("%(name)s is a candidate.", name=candidate.display_name))
    return redirect(url_for("pages.election", election_id=election_id))


@bp.post("/board/elections/<int:election_id>/votes")
@signin_required
def vote_in_election(election_id: int) -> Response:
    form = ElectionVoteForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        election_service.vote(
            db(),
            state().bylaws,
            election_id,
            voter=current_member(),  # type: ignore[arg-type]
            candidate_id=int(form.candidate_id.data or 0),
            at=now(),
        )
    except ServiceError as error:
        flash(service_error_detail(error), "error")
    else:
        flash(gettext("Your vote is counted."))
    return redirect(url_for("pages.election", election_id=election_id))


def _percent(share: Fraction) -> Decimal:
    return (Decimal(share.numerator * 100) / Decimal(share.denominator)).quantize(Decimal("0.1"))


@bp.get("/board/ledger")
@signin_required
def board_ledger() -> str:
    member = current_member()
    return render_template(
        "board/ledger.html",
        lines=ledger.ledger(db(), member.id if member else None),
        share_percent=_percent(state().bylaws.contributors_share),
    )
