"""/api/v1/clients: the registered OAuth clients, and registering one (stewards only).

GET  /api/v1/clients   scope clients:write, and the caller must be a steward
POST /api/v1/clients   scope clients:write, and the caller must be a steward; a JSON body valid
                       against schemas/json/client-registration.schema.json. 201 with the
                       client_id and, for a confidential client, the client_secret: the only
                       time the trust ever shows it (it keeps a hash).

A body that breaks the schema is a 422 problem whose `field` names the offending property.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

from flask import jsonify, request
from flask_babel import gettext
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import OAuthClient
from cltd.resources import schemas_dir
from cltd.rules.roles import Permission, Scope, allows
from cltd.services import members, oauth
from cltd.web.api import bp
from cltd.web.api.tokens import iso_utc
from cltd.web.auth import current_member, current_roles
from cltd.web.oauth.resource import api_access
from cltd.web.problems import problem
from cltd.web.state import db

SCHEMA_FILE = "client-registration.schema.json"
STEWARD_ONLY = "api.steward_only"
JSON_REQUIRED = "request.json_required"
SCHEMA_INVALID = "request.schema_invalid"


@cache
def registration_schema() -> Draft202012Validator:
    """Read once, on first use (nothing is read at import)."""
    schema = json.loads((schemas_dir() / "json" / SCHEMA_FILE).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


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
    body = request.get_json(silent=True)
    if body is None:
        return problem(
            400,
            gettext("Send the application as a JSON object (Content-Type: application/json)."),
            code=JSON_REQUIRED,
        )
    error = best_match(registration_schema().iter_errors(body))
    if error is not None:
        field = _offending_property(error)
        return problem(422, _explain(error, field), code=SCHEMA_INVALID, field=field)
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


def _offending_property(error: ValidationError) -> str | None:
    """The top-level property the error is about: from its path, or the one missing or extra."""
    if error.absolute_path:
        return str(error.absolute_path[0])
    if not isinstance(error.instance, dict):
        return None
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return missing[0] if missing else None
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(str(name) for name in error.instance if name not in known)
        return extra[0] if extra else None
    return None


def _explain(error: ValidationError, field: str | None) -> str:
    if field is None:
        return gettext("The body must be a JSON object describing the application.")
    kind = error.validator
    if kind == "required":
        return gettext("“%(field)s” is required.", field=field)
    if kind == "additionalProperties":
        return gettext("“%(field)s” is not a field of an application.", field=field)
    if kind == "enum":
        return gettext(
            "“%(value)s” is not allowed in “%(field)s”.",
            value=json.dumps(error.instance, ensure_ascii=False)[:80],
            field=field,
        )
    if kind == "type":
        return gettext("“%(field)s” has the wrong type.", field=field)
    if kind in ("maxLength", "maxItems"):
        return gettext("“%(field)s” is too long.", field=field)
    if kind in ("minLength", "minItems", "not"):
        return gettext("“%(field)s” must not be empty.", field=field)
    if kind == "pattern":
        return gettext("“%(field)s” holds characters that are not allowed there.", field=field)
    return gettext("“%(field)s” is not valid.", field=field)
