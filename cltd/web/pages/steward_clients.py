"""The steward's applications page: register OAuth clients, see them, switch them off."""

from __future__ import annotations

import re
from collections import Counter

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from cltd.adapters.clock import now
from cltd.rules.codes import Code
from cltd.rules.roles import Permission, Scope
from cltd.services import members, oauth
from cltd.services.errors import NotFound, ServiceError
from cltd.web.auth import current_member, permission_required
from cltd.web.forms import RegisterClientForm, RevokeForm
from cltd.web.oauth.scopes import scope_descriptions
from cltd.web.pages import bp
from cltd.web.problems import service_error_detail
from cltd.web.state import db

CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # hex now; url-safe base64 before 2026-11


def _client_form(*, blank: bool = False) -> RegisterClientForm:
    form = RegisterClientForm(formdata=None) if blank else RegisterClientForm()
    # Every scope the trust knows is offered, described where the consent screen describes it.
    described = dict(scope_descriptions([s.value for s in Scope]))
    form.scopes.choices = [SelectChoice(s.value, described.get(s.value, s.value)) for s in Scope]
    return form


@bp.route("/steward/clients", methods=["GET", "POST"])
@permission_required(Permission.ClientsRegister)
def steward_clients() -> str | Response | tuple[str, int]:
    form = _client_form()
    if request.method == "GET":
        return _render(form)
    if not form.validate_on_submit():
        return _render(form), 400
    try:
        registered = oauth.register_client(
            db(),
            name=form.name.data or "",
            organisation=form.organisation.data or "",
            client_type=form.client_type.data or "",
            redirect_uris=(form.redirect_uris.data or "").splitlines(),
            scopes=form.scopes.data or [],
            grant_types=form.grant_types.data or [],
            may_introspect=bool(form.may_introspect.data),
            webhook_url=form.webhook_url.data or None,
            actor=members.actor_of(current_member()),
            at=now(),
        )
    except ServiceError as error:
        field = getattr(form, error.field or "", None) or form.name
        field.errors = [service_error_detail(error)]
        return _render(form), error.status
    # The secret is in this response only: not in the session, not in a flash, not cached.
    response = make_response(_render(_client_form(blank=True), registered=registered))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/steward/clients/<client_id>/disable")
@permission_required(Permission.ClientsRegister)
def steward_client_disable(client_id: str) -> Response:
    """Switch an application off; its tokens stop working. Unknown or disabled: 404."""
    if not CLIENT_ID.fullmatch(client_id):  # never issued; and PostgreSQL refuses some text
        raise NotFound(Code.CLIENT_UNKNOWN, "client_id")
    oauth.disable_client(db(), client_id, actor=members.actor_of(current_member()), at=now())
    flash(gettext("The application is disabled: none of its tokens work any more."))
    return redirect(url_for("pages.steward_clients"))


def _render(form: RegisterClientForm, registered: oauth.Registered | None = None) -> str:
    live = Counter(token.client_pk for token in oauth.tokens_of(db(), None, now()))
    return render_template(
        "steward/clients.html",
        form=form,
        clients=oauth.list_clients(db()),
        live=live,
        registered=registered,
        disable_form=RevokeForm(),
    )
