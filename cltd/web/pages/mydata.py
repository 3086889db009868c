"""A member's own data: the consent grid and its history with receipts, who used their records,
and leaving the trust (invariants 1, 2, 5 and 6 as the member sees them)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, jsonify, redirect, render_template, session, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import Asset, Consent, Member
from cltd.rules.codes import Code
from cltd.rules.policy import purpose_use
from cltd.rules.purposes import Access, Purpose, PurposeTaxonomy
from cltd.services import consents as consent_service
from cltd.services import erasure, members, oauth, records
from cltd.services import uses as use_service
from cltd.services.assets import held_assets, policy_of
from cltd.services.errors import NotFound, ServiceError
from cltd.web.auth import current_member, end_session, signin_required
from cltd.web.forms import ConsentChangeForm, LeaveForm
from cltd.web.i18n import pick_language
from cltd.web.identity import signed, trust_did
from cltd.web.pages import bp
from cltd.web.problems import service_error_detail
from cltd.web.state import db, state

MAX_ROW_ID = 2**31 - 1  # PostgreSQL's integer: past it there is no such row
ALL = "all"  # the anchor's name for the row of every asset
LEFT = "left_the_trust"  # set in the emptied session so the goodbye page shows once


@dataclass(frozen=True)
class Coverage:
    """A live consent that covers a cell without being that cell's own consent."""

    purpose: Purpose
    all_assets: bool  # given for every asset (not just this one)
    same_purpose: bool


@dataclass(frozen=True)
class Cell:
    anchor: str
    asset_value: str  # what the form posts as asset_id: '' for every asset
    purpose: Purpose
    depth: int
    exact: Consent | None
    covered_by: tuple[Coverage, ...]
    unused: Code | None  # why the asset's policy keeps this purpose from being used

    @property
    def state(self) -> str:
        if self.exact is not None:
            return "consented"
        return "covered" if self.covered_by else "none"


@dataclass(frozen=True)
class Row:
    anchor: str
    asset: Asset | None  # None: the row of every asset
    title: str
    title_lang: str | None
    cells: list[Cell]
    may_contribute: bool


def _signed_in() -> Member:
    member = current_member()
    if member is None:  # never past signin_required
        abort(401)
    return member


def shown_purposes(taxonomy: PurposeTaxonomy) -> list[tuple[Purpose, int]]:
    """The purposes the bylaws do not prohibit, parents first, each with its depth."""
    shown = [p for p in taxonomy.purposes.values() if p.access != Access.PROHIBITED]
    ordered: list[tuple[Purpose, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for purpose in shown:
            if purpose.parent == parent:
                ordered.append((purpose, depth))
                walk(purpose.key, depth + 1)

    walk(None, 0)
    return ordered


def cell_anchor(asset_id: int | None, purpose: str) -> str:
    return f"c-{asset_id if asset_id is not None else ALL}-{purpose}"


def _cell(
    taxonomy: PurposeTaxonomy,
    live: list[Consent],
    asset: Asset | None,
    purpose: Purpose,
    depth: int,
) -> Cell:
    asset_id = asset.id if asset is not None else None
    exact = next((c for c in live if c.asset_id == asset_id and c.purpose == purpose.key), None)
    covered = tuple(
        Coverage(
            taxonomy[c.purpose],
            all_assets=c.asset_id is None and asset_id is not None,
            same_purpose=c.purpose == purpose.key,
        )
        for c in live
        if c is not exact
        and (c.asset_id is None or c.asset_id == asset_id)
        and taxonomy.covers(c.purpose, purpose.key)
    )
    unused = None
    if asset is not None:
        usable = purpose_use(policy_of(asset), taxonomy, purpose.key)
        unused = None if usable else usable.code
    return Cell(
        cell_anchor(asset_id, purpose.key),
        str(asset_id) if asset_id is not None else "",
        purpose,
        depth,
        exact,
        covered,
        unused,
    )


def _grid(member: Member, at: datetime) -> list[Row]:
    taxonomy = state().bylaws.taxonomy
    purposes = shown_purposes(taxonomy)
    live = [c for c in consent_service.live_consents(db(), member.id, at) if c.purpose in taxonomy]
    rows = [
        Row(
            f"asset-{ALL}",
            None,
            gettext("All assets"),
            None,
            [_cell(taxonomy, live, None, p, depth) for p, depth in purposes],
            False,
        )
    ]
    for asset in held_assets(db()):
        title, title_lang = pick_language(asset.title)
        rows.append(
            Row(
                f"asset-{asset.id}",
                asset,
                title,
                title_lang,
                [_cell(taxonomy, live, asset, p, depth) for p, depth in purposes],
                records.may_contribute(asset, member),
            )
        )
    return rows


def _render_grid(member: Member, *, problem: str | None = None, at_cell: str | None = None) -> str:
    at = now()
    return render_template(
        "mydata/index.html",
        rows=_grid(member, at),
        history=[
            (c, pick_language(c.asset.title) if c.asset is not None else None)
            for c in consent_service.history(db(), member.id)
        ],
        taxonomy=state().bylaws.taxonomy,
        form=ConsentChangeForm(formdata=None),
        problem=problem,
        problem_cell=at_cell,
        at=at,
    )


@bp.get("/my-data")
@signin_required
def my_data() -> str:
    return _render_grid(_signed_in())


def _asset_id(raw: str | None) -> int | None:
    """'' is every asset; anything but a row id that can exist is an unknown asset."""
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ROW_ID:
        raise NotFound(Code.ASSET_UNKNOWN, "asset_id")
    return int(raw)


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _expiry(form: ConsentChangeForm, at: datetime) -> datetime | None:
    """The end the member chose: the end of a day (trust's time zone), or a month or a year."""
    until: date | None = form.until.data
    if until is not None:
        zone = ZoneInfo(state().settings.timezone)
        try:
            return datetime.combine(until + timedelta(days=1), time(), zone).astimezone(UTC)
        except (OverflowError, ValueError):
            form.until.errors = [gettext("Choose a day before the year 9999.")]
            return None
    if form.expires.data == "month":
        return _add_months(at, 1)
    if form.expires.data == "year":
        return _add_months(at, 12)
    return None


def _first_error(form: ConsentChangeForm) -> str:
    if form.until.errors:
        return gettext("“Until” needs a day, like %(example)s.", example="2031-12-31")
    return gettext("This change could not be understood. Reload the page and try again.")


@bp.post("/my-data/consent")
@signin_required
def my_data_consent() -> Response | tuple[str, int]:
    """One cell of the grid: give (consent=1, with an optional end) or withdraw (consent=0)."""
    member = _signed_in()  # CSRFProtect has checked the form's token already
    form = ConsentChangeForm()
    taxonomy = state().bylaws.taxonomy
    purpose = form.purpose.data or ""
    if not form.validate_on_submit():
        return _render_grid(member, problem=_first_error(form)), 400
    at, anchor = now(), None
    try:
        asset_id = _asset_id(form.asset_id.data)
        anchor = cell_anchor(asset_id, purpose) if purpose in taxonomy else None
        if form.consent.data == "1":
            expires_at = _expiry(form, at)
            if form.until.errors:
                return _render_grid(member, problem=form.until.errors[0], at_cell=anchor), 400
            consent_service.grant(
                db(),
                taxonomy,
                member=member,
                asset_id=asset_id,
                purpose=purpose,
                at=at,
                expires_at=expires_at,
            )
            flash(gettext("Thank you: your consent is recorded."))
        else:
            ended = consent_service.withdraw(
                db(), taxonomy, member=member, asset_id=asset_id, purpose=purpose, at=at
            )
            flash(
                gettext("Withdrawn: from the next read on, your records are left out.")
                if ended
                else gettext("There was no consent of yours here to withdraw.")
            )
    except ServiceError as error:
        problem = service_error_detail(error)
        return _render_grid(member, problem=problem, at_cell=anchor), error.status
    return redirect(url_for("pages.my_data", _anchor=anchor or None))


@bp.get("/my-data/consents/<int:consent_id>/receipt.json")
@signin_required
def my_data_receipt(consent_id: int) -> Response:
    """The consent's receipt, signed by the trust; someone else's consent is a 404."""
    member = _signed_in()
    if consent_id > MAX_ROW_ID:
        raise NotFound(Code.CONSENT_UNKNOWN, "consent_id")
    consent = consent_service.get_own(db(), member, consent_id)
    document = consent_service.receipt_document(
        consent, trust_name=state().settings.trust_name, issuer=trust_did()
    )
    response = jsonify(signed(document, now()))
    response.headers["Content-Disposition"] = f'attachment; filename="consent-{consent.id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class Notice:
    """A revocation notice as the member reads it."""

    created_at: datetime
    status: str
    attempts: int
    delivered_at: datetime | None
    consumer: str | None
    asset: str | None
    purpose: Purpose | None
    problem: str | None


def _plain(error: str | None) -> str | None:
    """The worker's delivery error in words a member understands."""
    if not error:
        return None
    if error.startswith("the consumer answered HTTP"):
        return gettext(
            "The consumer’s server refused it (error %(status)s).", status=error.split()[-1]
        )
    if error.startswith("could not reach the consumer"):
        return gettext("The consumer’s server could not be reached.")
    return gettext("It could not be delivered (%(reason)s).", reason=error)


def _notices(member: Member) -> list[Notice]:
    taxonomy = state().bylaws.taxonomy
    titles = {a.slug: pick_language(a.title)[0] for a in held_assets(db())}
    found = []
    for job in use_service.notices_of(db(), member.id):
        payload = job.payload or {}
        client = oauth.find_client(db(), str(payload.get("client_id", "")))
        slug, purpose = str(payload.get("asset", "")), str(payload.get("purpose", ""))
        found.append(
            Notice(
                job.created_at,
                job.status,
                job.attempts,
                job.delivered_at,
                client.name if client is not None else None,
                titles.get(slug, slug or None),
                taxonomy.get(purpose),
                _plain(job.last_error),
            )
        )
    return found


@bp.get("/my-data/uses")
@signin_required
def my_data_uses() -> str:
    member = _signed_in()
    uses = [(use, pick_language(use.asset_title)) for use in use_service.uses_of(db(), member.id)]
    moves = [
        (move, pick_language(move.asset_title)) for move in use_service.moves_of(db(), member.id)
    ]
    return render_template(
        "mydata/uses.html",
        uses=uses,
        moves=moves,
        notices=_notices(member),
        taxonomy=state().bylaws.taxonomy,
    )


@bp.route("/my-data/leave", methods=["GET", "POST"])
@signin_required
def my_data_leave() -> str | Response | tuple[str, int]:
    """Leaving: the member's data key is destroyed and their records deleted, for good."""
    member = _signed_in()
    form = LeaveForm()
    if not form.is_submitted():
        return render_template("mydata/leave.html", form=form)
    typed = members.normalise_email(form.email.data or "")
    if not form.validate_on_submit() or typed != members.normalise_email(member.email):
        form.email.errors = [
            gettext("This is not the email address you sign in with. Nothing was deleted.")
        ]
        return render_template("mydata/leave.html", form=form), 400
    at = now()
    erasure.erase_member(
        db(), state().bylaws.taxonomy, member, actor=members.actor_of(member), at=at
    )
    token = end_session()
    if token:
        members.sign_out(db(), token, at)
    session[LEFT] = True
    return redirect(url_for("pages.my_data_goodbye"))


@bp.get("/my-data/goodbye")
def my_data_goodbye() -> str | Response:
    if not session.pop(LEFT, False):
        return redirect(url_for("pages.home"))
    return render_template("mydata/goodbye.html")
