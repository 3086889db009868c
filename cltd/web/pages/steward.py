"""The steward's pages: admitting members."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from cltd.adapters.clock import now
from cltd.rules.roles import Permission
from cltd.services import members
from cltd.services.errors import ServiceError
from cltd.web.auth import current_member, permission_required
from cltd.web.forms import AddMemberForm
from cltd.web.i18n import current_language
from cltd.web.pages import bp
from cltd.web.problems import service_error_detail
from cltd.web.state import db, state


def _member_form() -> AddMemberForm:
    form = AddMemberForm()
    form.member_class.choices = [
        SelectChoice(c.key, c.name(current_language())) for c in state().bylaws.classes
    ]
    return form


@bp.route("/steward/members", methods=["GET", "POST"])
@permission_required(Permission.MembersAdd)
def steward_members() -> str | Response | tuple[str, int]:
    form = _member_form()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _render(form), 400
        try:
            member = members.add_member(
                db(),
                state().bylaws,
                email=form.email.data,
                display_name=form.display_name.data,
                member_class=form.member_class.data,
                password=form.password.data,
                is_steward=form.is_steward.data,
                actor=members.actor_of(current_member()),
                at=now(),
            )
        except ServiceError as error:
            getattr(form, error.field or "email").errors = [service_error_detail(error)]
            return _render(form), error.status
        flash(gettext("%(name)s is now a member of the trust.", name=member.display_name))
        return redirect(url_for("pages.steward_members"))
    return _render(form)


def _render(form: AddMemberForm) -> str:
    return render_template(
        "steward/members.html",
        form=form,
        members=members.list_members(db()),
        classes={c.key: c for c in state().bylaws.classes},
    )
