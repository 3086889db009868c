"""The steward's assets page: what the trust holds, and creating an asset with its policy.

The form is text a steward can write without JavaScript: a title and description per language
(one more language per click on "Add a language", which re-renders the form), fields one per
line (`name type [required]`), and permitted purposes one per line (`purpose: field, field`).
The view only splits that text; assets.create_asset checks every value, and nothing is saved
unless all of it is right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response
from wtforms import Field
from wtforms.fields.choices import SelectChoice

from cltd.adapters.clock import now
from cltd.config import SUPPORTED_LOCALES
from cltd.rules.codes import Code
from cltd.rules.purposes import Access
from cltd.rules.roles import Permission
from cltd.services import assets as asset_service
from cltd.services import members, records
from cltd.services.errors import ServiceError
from cltd.web.auth import current_member, permission_required
from cltd.web.forms import AssetForm
from cltd.web.i18n import LANGUAGE_NAMES, current_language, pick_language
from cltd.web.pages import bp
from cltd.web.problems import service_error_detail
from cltd.web.state import db, state

_FIELD_INDEX = re.compile(r"^fields\[(\d+)\]")


class FormProblem(Exception):
    """Text the view could not split into the service's arguments: which input, and why."""

    def __init__(self, field: Field, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ParsedFields:
    fields: list[dict[str, Any]]
    lines: list[int]  # the text line of each field, to point at it when the service refuses


def _lines(text: str | None) -> list[tuple[int, str]]:
    numbered = enumerate((text or "").splitlines(), 1)
    return [(n, line.strip()) for n, line in numbered if line.strip()]


def _parse_fields(form: AssetForm) -> ParsedFields:
    """`street text required` → {"name": "street", "type": "text", "required": True}."""
    fields, lines = [], []
    for number, line in _lines(form.record_fields.data):
        parts = line.split()
        required = len(parts) == 3 and parts[2].lower() == "required"
        if len(parts) != 2 and not required:
            raise FormProblem(
                form.record_fields,
                gettext(
                    "Line %(line)s: write a field as “name type” or “name type required”.",
                    line=number,
                ),
            )
        fields.append({"name": parts[0], "type": parts[1].lower(), "required": required})
        lines.append(number)
    return ParsedFields(fields, lines)


def _parse_permitted(form: AssetForm) -> dict[str, list[str]]:
    """`public-benefit: street, damp` → {"public-benefit": ["street", "damp"]}."""
    permitted: dict[str, list[str]] = {}
    for number, line in _lines(form.permitted.data):
        purpose, colon, names = line.partition(":")
        purpose = purpose.strip()
        if not colon or not purpose:
            raise FormProblem(
                form.permitted,
                gettext("Line %(line)s: write “purpose: field, field”.", line=number),
            )
        if purpose in permitted:
            raise FormProblem(
                form.permitted,
                gettext(
                    "Line %(line)s: the purpose “%(purpose)s” is already listed.",
                    line=number,
                    purpose=purpose,
                ),
            )
        permitted[purpose] = [n.strip() for n in names.split(",") if n.strip()]
    return permitted


def _texts(form: AssetForm) -> tuple[dict[str, str], dict[str, str]]:
    titles: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for entry in form.texts.entries:
        language = entry.form.language.data or ""
        if language in titles:  # a tampered form: the first row of a language counts
            continue
        titles[language] = entry.form.title.data or ""
        descriptions[language] = entry.form.description.data or ""
    return titles, descriptions


def _place(form: AssetForm, error: ServiceError) -> Field:
    """The input a service refusal is about (error.field names the service's argument)."""
    name = error.field or ""
    rows = {entry.form.language.data: entry.form for entry in form.texts.entries}
    if name.startswith("title."):
        row = rows.get(name.removeprefix("title."))
        return row.title if row is not None else form.texts.entries[0].form.title
    if name == "title":
        return form.texts.entries[0].form.title
    if name == "fields" or name.startswith("fields["):
        return form.record_fields
    if name == "policy":
        # An unknown purpose ticked as prohibited (a tampered form) is about the checkboxes.
        purpose = error.params.get("purpose")
        ticked = error.code == Code.PURPOSE_UNKNOWN and purpose in (form.prohibited.data or [])
        return form.prohibited if ticked else form.permitted
    found = {"contributing_classes": form.contributing_classes, "duties": form.duties}
    return found.get(name, form.slug)


def _message(error: ServiceError, fields: ParsedFields) -> str:
    message = service_error_detail(error)
    found = _FIELD_INDEX.match(error.field or "")
    if found and int(found.group(1)) < len(fields.lines):
        line = fields.lines[int(found.group(1))]
        return gettext("Line %(line)s: %(problem)s", line=line, problem=message)
    return message


def _asset_form() -> AssetForm:
    """The form, with today's choices; a GET starts with one language: the steward's."""
    if request.method == "POST":
        form = AssetForm()
    else:
        form = AssetForm(
            texts=[{"language": current_language()}],
            contributing_classes=list(state().bylaws.class_keys()),
        )
    language = current_language()
    bylaws = state().bylaws
    form.contributing_classes.choices = [
        SelectChoice(c.key, c.name(language)) for c in bylaws.classes
    ]
    form.prohibited.choices = [
        SelectChoice(p.key, p.name(language))
        for p in bylaws.taxonomy.purposes.values()
        if p.access != Access.PROHIBITED
    ]
    used = {entry.form.language.data for entry in form.texts.entries}
    form.new_language.choices = [
        SelectChoice(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES if code not in used
    ]
    return form


def _add_language(form: AssetForm) -> None:
    """One more language row: the one chosen beside the button, else the next one missing."""
    remaining = [choice.value for choice in form.new_language.choices or []]  # type: ignore[union-attr]
    if not remaining or len(form.texts.entries) >= len(SUPPORTED_LOCALES):
        return
    chosen = form.new_language.data if form.new_language.data in remaining else remaining[0]
    form.texts.append_entry({"language": chosen})
    form.new_language.choices = [
        c
        for c in form.new_language.choices or []  # type: ignore[union-attr]
        if c.value != chosen
    ]


@bp.route("/steward/assets", methods=["GET", "POST"])
@permission_required(Permission.AssetsCreate)
def steward_assets() -> str | Response | tuple[str, int]:
    form = _asset_form()
    if request.method == "GET":
        return _render(form)
    if form.add_language.data:  # CSRFProtect has checked the token; nothing is saved here
        _add_language(form)
        return _render(form)
    if not form.validate_on_submit():
        return _render(form), 400
    fields = ParsedFields([], [])
    try:
        fields = _parse_fields(form)
        permitted = _parse_permitted(form)
        titles, descriptions = _texts(form)
        asset = asset_service.create_asset(
            db(),
            state().bylaws,
            slug=(form.slug.data or "").strip(),
            title=titles,
            description=descriptions,
            keywords=(form.keywords.data or "").split(","),
            fields=fields.fields,
            contributing_classes=form.contributing_classes.data or None,
            permitted=permitted,
            prohibited=form.prohibited.data or [],
            duties=form.duties.data or [],
            actor=members.actor_of(current_member()),
            at=now(),
        )
    except FormProblem as problem:
        problem.field.errors = [problem.message]
        return _render(form), 422
    except ServiceError as error:
        _place(form, error).errors = [_message(error, fields)]
        return _render(form), error.status
    title, _lang = pick_language(asset.title)
    flash(gettext("The trust now holds “%(title)s”, under the asset lock.", title=title))
    return redirect(url_for("pages.steward_assets", _anchor=f"asset-{asset.id}"))


def _render(form: AssetForm) -> str:
    bylaws = state().bylaws
    language = current_language()
    assets = [
        {
            "asset": asset,
            "title": pick_language(asset.title),
            "fields": asset_service.fields_of(asset),
            "policy": asset_service.policy_of(asset),
        }
        for asset in asset_service.held_assets(db())
    ]
    return render_template(
        "steward/assets.html",
        form=form,
        assets=assets,
        counts=records.count_by_asset(db()),
        taxonomy=bylaws.taxonomy,
        class_names={c.key: c.name(language) for c in bylaws.classes},
        duty_names={c.value: c.label for c in form.duties.choices or []},  # type: ignore[union-attr]
        open_purposes=[
            p for p in bylaws.taxonomy.purposes.values() if p.access != Access.PROHIBITED
        ],
    )
