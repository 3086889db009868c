"""Signing in and out with a password."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.services import members
from cltd.services.errors import ServiceError
from cltd.web.auth import begin_session, end_session, safe_next
from cltd.web.forms import SignInForm, SignOutForm
from cltd.web.pages import bp
from cltd.web.problems import service_error_detail
from cltd.web.state import db, state


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> str | Response | tuple[str, int]:
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        return render_template("signin.html", form=form)
    if not form.validate_on_submit():
        return render_template("signin.html", form=form), 400
    lifetime = timedelta(hours=state().settings.session_absolute_hours)
    try:
        result = members.sign_in(
            db(), email=form.email.data, password=form.password.data, at=now(), lifetime=lifetime
        )
    except ServiceError as error:
        return render_template("signin.html", form=form, error=service_error_detail(error)), 400
    previous = begin_session(result.token)
    if previous:
        members.sign_out(db(), previous, now())
    return redirect(safe_next(form.next.data, url_for("pages.home")))


@bp.post("/signout")
def signout() -> Response:
    SignOutForm()  # CSRFProtect has already checked the token before we get here
    token = end_session()
    if token:
        members.sign_out(db(), token, now())
    return redirect(url_for("pages.home"))
