"""Who is calling /api/v1: a bearer token (authlib ResourceProtector) or the page session.

A bearer token is checked against the database on every request (no cache outlives a
revocation) and must carry the route's scope. A session caller is the signed-in member; their
unsafe requests need the page's CSRF token in the X-CSRFToken header.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import current_app, g, request
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import OAuthClient
from cltd.rules.roles import Scope
from cltd.services import members, oauth
from cltd.web.auth import current_member
from cltd.web.oauth.adapters import Token
from cltd.web.problems import problem
from cltd.web.state import db

P = ParamSpec("P")
R = TypeVar("R")


class _Validator(BearerTokenValidator):  # type: ignore[misc]
    def authenticate_token(self, token_string: str) -> Token | None:
        at = now()
        row = oauth.live_token(db(), token_string, at)
        return Token(row, at) if row is not None else None


protector = ResourceProtector()
protector.register_token_validator(_Validator())


def _bearer_refusal(error: OAuth2Error) -> Response:
    response = problem(
        error.status_code or 401, error.description or None, code=f"oauth.{error.error}"
    )
    header = f'Bearer error="{error.error}"'
    if error.error == "insufficient_scope" and getattr(error, "scope", None):
        header += f', scope="{error.scope}"'
    response.headers["WWW-Authenticate"] = header
    return response


def current_client() -> OAuthClient | None:
    return g.get("oauth_client")


def api_access(scope: Scope) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Let in a bearer token with SCOPE, or the signed-in member of the page session."""

    def decorator(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            if request.headers.get("Authorization"):
                try:
                    token = protector.acquire_token([scope.value])
                except OAuth2Error as error:
                    return _bearer_refusal(error)
                row = token.row
                g.oauth_client = row.client
                g.member = row.member
                g.roles = members.roles_of(db(), row.member, now()) if row.member else frozenset()
            elif current_member() is None:
                response = problem(401)
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
            elif request.method not in ("GET", "HEAD", "OPTIONS"):
                current_app.extensions["csrf"].protect()
            return view(*args, **kwargs)

        return wrapped

    return decorator
