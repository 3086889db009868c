"""/api/v1/clients: the registered OAuth clients, and registering one (stewards only).

GET  /api/v1/clients   scope clients:write, and the caller must be a steward
POST /api/v1/clients   scope clients:write, and the caller must be a steward; a JSON body valid
                       against schemas/json/client-registration.schema.json. 201 with the
                       client_id and, for a confidential client, the client_secret: the only
                       time the trust ever shows it (it keeps a hash).

A body that breaks the schema is a 422 problem whose `field` names the offending property.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import OAuthClient
from cltd.rules.roles import Permission, Scope, allows
from cltd.services import members, oauth
from cltd.web.api import bp
from cltd.web.api.tokens import iso_utc
from cltd.web.auth import current_member, current_roles
from cltd.web.inputs import json_body
from cltd.web.oauth.resource import api_access
from cltd.web.problems import problem
from cltd.web.state import db

SCHEMA_FILE = "client-registration.schema.json"
STEWARD_ONLY = "api.steward_only"


@bp.get("/clients")
@api_access(Scope.ClientsWrite)
def list_clients() -> Response:
    if not allows(current_roles(), Permission.ClientsRegister):
        return problem(403, code=STEWARD_ONLY)
    live = Counter(token.client_pk for token in oauth.tokens_of(db(), None, now()))
    return jsonify(
        clients=[
            {**_describe(client), "live_tokens": live[client.id]}
            for client in oauth.list_clients(db())
        ]
    )


@bp.post("/clients")
@api_access(Scope.ClientsWrite)
def register_client() -> Response:
    if not allows(current_roles(), Permission.ClientsRegister):
        return problem(403, code=STEWARD_ONLY)
    body = json_body(SCHEMA_FILE)
    registered = oauth.register_client(  # a ServiceError becomes a problem with its field
        db(),
        name=body["name"],
        organisation=body["organisation"],
        client_type=body["client_type"],
        redirect_uris=body.get("redirect_uris", []),
        scopes=body["scopes"],
        grant_types=body["grant_types"],
        may_introspect=body.get("may_introspect", False),
        webhook_url=body.get("webhook_url"),
        actor=members.actor_of(current_member()),
        at=now(),
    )
    answer: dict[str, Any] = _describe(registered.client)
    if registered.secret is not None:
        answer["client_secret"] = registered.secret
    response = jsonify(answer)
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


def _describe(client: OAuthClient) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "organisation": client.organisation,
        "client_type": client.client_type,
        "redirect_uris": list(client.redirect_uris),
        "scopes": list(client.scopes),
        "grant_types": list(client.grant_types),
        "may_introspect": client.may_introspect,
        "webhook_url": client.webhook_url,
        "created_at": iso_utc(client.created_at),
        "disabled": client.disabled_at is not None,
        "disabled_at": iso_utc(client.disabled_at),
    }
