"""/api/v1/tokens: the caller's connected applications, and revoking one.

GET    /api/v1/tokens            scope tokens:read; a member's own live tokens
DELETE /api/v1/tokens/<id>       scope tokens:read; revokes the token's whole family: a member
                                 their own (another's id is 404), a steward any token

A consumer's own token (client credentials, no member) is refused with 403.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, request
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.rules.codes import Code
from cltd.rules.roles import Permission, Scope, allows
from cltd.services import members, oauth
from cltd.services.errors import NotFound
from cltd.web.api import bp
from cltd.web.auth import current_member, current_roles
from cltd.web.oauth.resource import api_access
from cltd.web.problems import problem
from cltd.web.state import db

MEMBER_ONLY = "api.member_only"
MAX_ROW_ID = 2**31 - 1


def iso_utc(moment: datetime | None) -> str | None:
    """2025-01-31T09:30:00Z: ISO 8601 in UTC, to the second."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@bp.get("/tokens")
@api_access(Scope.TokensRead)
def list_tokens() -> Response:
    """The caller's own live tokens, oldest first; ?all=true gives a steward every member's."""
    member = current_member()
    if member is None:
        return problem(403, code=MEMBER_ONLY)
    everyone = request.args.get("all") == "true"
    if everyone and not allows(current_roles(), Permission.TokensManageAll):
        return problem(403, code="api.steward_only")
    tokens = oauth.tokens_of(db(), None if everyone else member, now())
    started = oauth.authorised_at(db(), tokens)
    return jsonify(
        tokens=[
            {
                "id": token.id,
                "client_id": token.client.client_id,
                "client_name": token.client.name,
                "organisation": token.client.organisation,
                "scope": token.scope,
                "member_id": token.member_id,
                "authorised_at": iso_utc(started.get(token.family, token.issued_at)),
                "issued_at": iso_utc(token.issued_at),
                "expires_at": iso_utc(token.access_expires_at),
                "refresh_expires_at": iso_utc(token.refresh_expires_at),
            }
            for token in tokens
        ]
    )


@bp.delete("/tokens/<int:token_id>")
@api_access(Scope.TokensRevoke)
def revoke_token(token_id: int) -> Response:
    """Revoke a token and the rest of its family; 204 on success."""
    member = current_member()
    if member is None:
        return problem(403, code=MEMBER_ONLY)
    if token_id > MAX_ROW_ID:  # past PostgreSQL's integer: no such token, not a database error
        raise NotFound(Code.TOKEN_UNKNOWN, "token_id")
    steward = allows(current_roles(), Permission.TokensManageAll)
    oauth.revoke_by_id(  # NotFound (404) for an id this caller may not see
        db(),
        token_id,
        member=None if steward else member,
        actor=members.actor_of(member),
        at=now(),
    )
    return Response(status=204)
