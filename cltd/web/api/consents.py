"""/api/v1/consents and /api/v1/me/uses: a member's consents, receipts and who used their data.

GET /consents                   consent:read   live consents and the grid's purposes
PUT /consents                   consent:write  give or withdraw {asset_id|null, purpose, consent}
GET /consents/history           consent:read   every consent ever given, with its end
GET /consents/<id>/receipt      consent:read   a receipt signed by the trust (eddsa-jcs-2022)
GET /me/uses                    consent:read   every read that served the member's records
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import Consent
from cltd.rules.roles import Scope
from cltd.services import consents as consent_service
from cltd.services import uses as use_service
from cltd.web.api import bp
from cltd.web.api.callers import member_caller
from cltd.web.identity import signed, trust_did
from cltd.web.inputs import json_body, parse_time
from cltd.web.oauth.resource import api_access
from cltd.web.state import db, state


def describe(consent: Consent) -> dict[str, Any]:
    return {
        "id": consent.id,
        "asset_id": consent.asset_id,
        "purpose": consent.purpose,
        "granted_at": consent.granted_at.isoformat(),
        "expires_at": consent.expires_at.isoformat() if consent.expires_at else None,
        "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
    }


@bp.get("/consents")
@api_access(Scope.ConsentRead)
def list_consents() -> Response:
    member = member_caller()
    live = consent_service.live_consents(db(), member.id, now())
    return jsonify(consents=[describe(c) for c in live])


@bp.put("/consents")
@api_access(Scope.ConsentWrite)
def change_consent() -> Response:
    member = member_caller()
    body = json_body("consent-change.schema.json")
    at = now()
    expires = parse_time(body.get("expires_at"), "expires_at")
    taxonomy = state().bylaws.taxonomy
    if body["consent"]:
        consent = consent_service.grant(
            db(),
            taxonomy,
            member=member,
            asset_id=body.get("asset_id"),
            purpose=body["purpose"],
            at=at,
            expires_at=expires,
        )
        return jsonify(consent=describe(consent), ended=[])
    ended = consent_service.withdraw(
        db(), taxonomy, member=member, asset_id=body.get("asset_id"), purpose=body["purpose"], at=at
    )
    return jsonify(consent=None, ended=[describe(c) for c in ended])


@bp.get("/consents/history")
@api_access(Scope.ConsentRead)
def consent_history() -> Response:
    return jsonify(
        consents=[describe(c) for c in consent_service.history(db(), member_caller().id)]
    )


@bp.get("/consents/<int:consent_id>/receipt")
@api_access(Scope.ConsentRead)
def consent_receipt(consent_id: int) -> Response:
    consent = consent_service.get_own(db(), member_caller(), consent_id)
    document = consent_service.receipt_document(
        consent, trust_name=state().settings.trust_name, issuer=trust_did()
    )
    response = jsonify(signed(document, now()))
    response.headers["Content-Disposition"] = f'attachment; filename="consent-{consent.id}.json"'
    return response


@bp.get("/me/uses")
@api_access(Scope.ConsentRead)
def my_uses() -> Response:
    member = member_caller()
    return jsonify(
        uses=[
            {
                "at": u.at.isoformat(),
                "consumer": u.client_name,
                "organisation": u.organisation,
                "asset": u.asset_slug,
                "purpose": u.purpose,
                "records": u.records,
            }
            for u in use_service.uses_of(db(), member.id)
        ],
        moves=[
            {
                "at": m.at.isoformat(),
                "trust": m.trust,
                "trust_url": m.trust_url,
                "asset": m.asset_slug,
                "title": m.asset_title,
                "records": m.records,
                "transfer_id": m.transfer_id,
            }
            for m in use_service.moves_of(db(), member.id)
        ],
        notices=[
            {
                "id": n.id,
                "status": n.status,
                "attempts": n.attempts,
                "target": n.target,
                "last_error": n.last_error,
                "created_at": n.created_at.isoformat(),
                "delivered_at": n.delivered_at.isoformat() if n.delivered_at else None,
            }
            for n in use_service.notices_of(db(), member.id)
        ],
    )
