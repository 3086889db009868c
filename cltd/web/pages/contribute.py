"""A member contributes one record to an asset their class contributes to, field by field."""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import Asset
from cltd.rules.codes import Code
from cltd.rules.fields import FieldSpec, FieldType
from cltd.services import records
from cltd.services.assets import fields_of, get_held
from cltd.services.errors import NotFound, ServiceError
from cltd.web.auth import current_member, signin_required
from cltd.web.forms import ContributeForm
from cltd.web.i18n import current_language, pick_language
from cltd.web.pages import bp
from cltd.web.problems import service_error_detail
from cltd.web.state import db, keyring, state

MAX_ROW_ID = 2**31 - 1
PREFIX = "value-"  # form inputs are value-<field name>: no clash with csrf_token


def _values(specs: list[FieldSpec], form: Mapping[str, str]) -> dict[str, str]:
    """The record as typed, one value per declared field (a checkbox left empty is false)."""
    values: dict[str, str] = {}
    for spec in specs:
        raw = form.get(PREFIX + spec.name, "")
        if spec.type == FieldType.BOOLEAN:
            values[spec.name] = "true" if raw == "true" else "false"
        elif spec.type == FieldType.TEXT:
            values[spec.name] = raw
        else:
            values[spec.name] = raw.strip()
    return values


def _render(
    asset: Asset,
    specs: list[FieldSpec],
    form: ContributeForm,
    entered: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> str:
    return render_template(
        "assets/contribute.html",
        asset=asset,
        title=pick_language(asset.title),
        description=pick_language(asset.description),
        specs=specs,
        form=form,
        entered=entered or {},
        errors=errors or {},
        prefix=PREFIX,
    )


@bp.route("/assets/<int:asset_id>/contribute", methods=["GET", "POST"])
@signin_required
def contribute_record(asset_id: int) -> str | Response | tuple[str, int]:
    member = current_member()
    if member is None:  # never past signin_required
        abort(401)
    if asset_id > MAX_ROW_ID:
        raise NotFound(Code.ASSET_UNKNOWN, "asset_id")
    asset = get_held(db(), asset_id)
    if not records.may_contribute(asset, member):
        bylaws = state().bylaws
        names = {c.key: c.name(current_language()) for c in bylaws.classes}
        return render_template(
            "assets/not_contributing.html",
            title=pick_language(asset.title),
            own_class=names.get(member.member_class, member.member_class),
            classes=[names.get(key, key) for key in asset.contributing_classes],
        ), 403
    specs = fields_of(asset)
    form = ContributeForm()
    if request.method == "GET":
        return _render(asset, specs, form)
    values = _values(specs, request.form)
    try:
        records.contribute(db(), keyring(), asset=asset, member=member, values=values, at=now())
    except ServiceError as error:
        field = error.field if error.field in {s.name for s in specs} else ""
        return _render(
            asset, specs, form, values, {field: service_error_detail(error)}
        ), error.status
    flash(
        gettext(
            "Your record is in the trust, sealed under your own key. Nobody reads it for a "
            "purpose you have not consented to."
        )
    )
    return redirect(url_for("pages.my_data", _anchor=f"asset-{asset.id}"))
