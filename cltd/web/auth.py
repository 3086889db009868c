"""Who is asking: the signed-in member of this request, and the checks views call.

The browser holds only a random session token inside Flask's signed cookie; the server keeps
its hash (WebSession), so signing out ends the session everywhere. Idle expiry is tracked in
the signed cookie, absolute expiry on the server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import Member
from cltd.rules.roles import Permission, Role, allows
from cltd.services import members
from cltd.web.problems import wants_problem_json
from cltd.web.state import db, state

P = ParamSpec("P")
R = TypeVar("R")

SESSION_TOKEN = "sid"
LAST_SEEN = "seen"


def load_signed_in_member() -> None:
    g.member = None
    g.roles = frozenset()
    token = session.get(SESSION_TOKEN)
    if not token:
        return
    at = now()
    idle = timedelta(minutes=state().settings.session_idle_minutes)
    seen = session.get(LAST_SEEN, 0)
    if at.timestamp() - float(seen) > idle.total_seconds():
        session.pop(SESSION_TOKEN, None)
        return
    member = members.member_for_token(db(), token, at)
    if member is None:
        session.pop(SESSION_TOKEN, None)
        return
    session[LAST_SEEN] = at.timestamp()
    g.member = member
    g.roles = members.roles_of(db(), member, at)


def begin_session(token: str) -> str | None:
    """Replace whatever the cookie held (a new identity gets a new session: no fixation).

    Returns the token of the session this browser had before, for the caller to end.
    """
    previous = session.get(SESSION_TOKEN)
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    session[SESSION_TOKEN] = token
    session[LAST_SEEN] = now().timestamp()
    session.permanent = True
    return previous


def end_session() -> str | None:
    token = session.get(SESSION_TOKEN)
    session.clear()
    return token


def current_member() -> Member | None:
    return g.get("member")


def current_roles() -> frozenset[Role]:
    return g.get("roles", frozenset())


def safe_next(target: str | None, default: str) -> str:
    """Follow ?next= only to a path on this site, never to another origin."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _refuse_anonymous() -> Response:
    if wants_problem_json():
        abort(401)
    return redirect(url_for("pages.signin", next=request.full_path.rstrip("?")))


def signin_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if current_member() is None:
            return _refuse_anonymous()
        return view(*args, **kwargs)

    return wrapped


def permission_required(
    permission: Permission,
) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    def decorator(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            if current_member() is None:
                return _refuse_anonymous()
            if not allows(current_roles(), permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
