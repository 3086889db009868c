"""/api/v1/access-requests: a consumer asks for (asset, purpose) with a justification.

POST /access-requests   access:request   201 granted (with the grant's expiry), 202 pending
                                         board review, or 403 refused with the reason
GET  /grants            access:request   the consumer's live grants
"""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import OAuthClient, RequestStatus
from cltd.rules.codes import MESSAGES, Code
from cltd.rules.roles import Scope
from cltd.services import access as access_service
from cltd.services import assets as asset_service
from cltd.services.errors import Forbidden
from cltd.web.api import bp
from cltd.web.inputs import json_body
from cltd.web.oauth.resource import api_access, current_client
from cltd.web.state import db, state

_STATUS_CODES = {RequestStatus.GRANTED: 201, RequestStatus.PENDING: 202, RequestStatus.REFUSED: 403}


def _client() -> OAuthClient:
    client = current_client()
    if client is None:
        raise Forbidden(Code.CONSUMER_ONLY)
    return client


@bp.post("/access-requests")
@api_access(Scope.AccessRequest)
def request_access() -> tuple[Response, int]:
    client = _client()
    body = json_body("access-request.schema.json")
    asset = asset_service.get_held(db(), body["asset_id"])
    answer = access_service.request_access(
        db(),
        state().bylaws,
        client=client,
        asset=asset,
        purpose=body["purpose"],
        justification=body["justification"],
        at=now(),
    )
    request_row = answer.request
    reason = None
    if request_row.reason:
        code = Code(request_row.reason)
        reason = {
            "code": code.value,
            "detail": gettext(MESSAGES[code], purpose=request_row.purpose),
        }
    return jsonify(
        id=request_row.id,
        status=request_row.status,
        asset_id=asset.id,
        purpose=request_row.purpose,
        reason=reason,
        grant=(
            {"id": answer.grant.id, "expires_at": answer.grant.expires_at.isoformat()}
            if answer.grant
            else None
        ),
    ), _STATUS_CODES[RequestStatus(request_row.status)]


@bp.get("/grants")
@api_access(Scope.AccessRequest)
def my_grants() -> Response:
    return jsonify(
        grants=[
            {
                "id": g.id,
                "asset_id": g.asset_id,
                "purpose": g.purpose,
                "starts_at": g.starts_at.isoformat(),
                "expires_at": g.expires_at.isoformat(),
            }
            for g in access_service.grants_of(db(), _client(), now())
        ]
    )
