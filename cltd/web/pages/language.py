"""The language switcher on every page."""

from __future__ import annotations

from flask import redirect, session, url_for
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.services import members
from cltd.web.auth import current_member, safe_next
from cltd.web.forms import LanguageForm
from cltd.web.pages import bp
from cltd.web.state import db


@bp.post("/language")
def language() -> Response:
    form = LanguageForm()
    if not form.validate_on_submit():
        return redirect(url_for("pages.home"))
    session["locale"] = form.locale.data
    member = current_member()
    if member is not None:
        members.set_locale(db(), member, form.locale.data, now())
    return redirect(safe_next(form.next.data, url_for("pages.home")))
