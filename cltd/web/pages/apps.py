"""A member's connected applications: what each may do for them, and withdrawing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import Member, OAuthClient, OAuthToken
from cltd.rules.codes import Code
from cltd.services import members, oauth
from cltd.services.errors import NotFound
from cltd.web.auth import current_member, signin_required
from cltd.web.forms import RevokeForm
from cltd.web.oauth.scopes import scope_descriptions
from cltd.web.pages import bp
from cltd.web.state import db

MAX_ROW_ID = 2**31 - 1


@dataclass(frozen=True)
class Connection:
    """One authorisation as the member sees it: a live token and when they granted it."""

    token: OAuthToken
    authorised_at: datetime
    scopes: list[tuple[str, str]]


def _described(scopes: list[str]) -> list[tuple[str, str]]:
    """Each scope with the consent screen's words for it (none yet for a newer scope)."""
    words = dict(scope_descriptions(scopes))
    return [(scope, words.get(scope, "")) for scope in scopes]


def _signed_in() -> Member:
    # Never None past signin_required, but the services read member=None as "every member".
    member = current_member()
    if member is None:
        abort(401)
    return member


@bp.get("/account/apps")
@signin_required
def account_apps() -> str:
    member = _signed_in()
    tokens = oauth.tokens_of(db(), member, now())
    started = oauth.authorised_at(db(), tokens)
    ordered = sorted(tokens, key=lambda t: (t.client.name.lower(), t.client_pk, t.issued_at))
    apps: list[tuple[OAuthClient, list[Connection]]] = [
        (
            client,
            [
                Connection(t, started.get(t.family, t.issued_at), _described(t.scope.split()))
                for t in group
            ],
        )
        for client, group in groupby(ordered, key=lambda t: t.client)
    ]
    return render_template("account/apps.html", apps=apps, form=RevokeForm())


@bp.post("/account/apps/<int:token_id>/revoke")
@signin_required
def account_app_revoke(token_id: int) -> Response:
    """Withdraw one authorisation (the token's whole family). Another member's id: 404."""
    member = _signed_in()  # CSRFProtect has checked the form's token already
    if token_id > MAX_ROW_ID:  # past PostgreSQL's integer: no such token, not a database error
        raise NotFound(Code.TOKEN_UNKNOWN, "token_id")
    oauth.revoke_by_id(  # NotFound (404) for an id that is not this member's
        db(), token_id, member=member, actor=members.actor_of(member), at=now()
    )
    flash(gettext("Access revoked: the application can no longer act for you."))
    return redirect(url_for("pages.account_apps"))
