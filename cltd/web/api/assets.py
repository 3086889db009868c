"""/api/v1/assets: the trust's assets, members' contributions, and purpose-bound reads.

GET  /assets                      catalog:read   held assets, metadata in the caller's language
POST /assets                      assets:write   a steward creates an asset (asset-locked)
GET  /assets/<id>                 catalog:read
POST /assets/<id>/records         records:write  a member contributes a record
GET  /assets/<id>/records         records:read   a consumer reads ?purpose=…&after=…&limit=…
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import Asset
from cltd.rules.codes import Code
from cltd.rules.roles import Permission, Scope, allows
from cltd.services import assets as asset_service
from cltd.services import members, records
from cltd.services.errors import Forbidden, InvalidInput
from cltd.web.api import bp
from cltd.web.auth import current_member, current_roles
from cltd.web.i18n import current_language, pick_language
from cltd.web.inputs import json_body
from cltd.web.oauth.resource import api_access, current_client
from cltd.web.state import db, keyring, state, writes


def describe(asset: Asset) -> dict[str, Any]:
    title, title_lang = pick_language(asset.title)
    description, _lang = pick_language(asset.description)
    return {
        "id": asset.id,
        "slug": asset.slug,
        "title": asset.title,
        "description": asset.description,
        "display_title": title,
        "display_title_language": title_lang,
        "display_description": description,
        "keywords": asset.keywords,
        "locked": asset.locked,
        "status": asset.status,
        "fields": asset.fields,
        "contributing_classes": asset.contributing_classes,
        "policy": asset.policy,
        "modified": asset.modified_at.isoformat(),
        "records_url": url_for("api.read_records", asset_id=asset.id),
    }


def _localised(response: Response) -> Response:
    response.headers["Content-Language"] = current_language()
    response.vary.add("Accept-Language")
    return response


@bp.get("/assets")
@api_access(Scope.CatalogRead)
def list_assets() -> Response:
    return _localised(jsonify(assets=[describe(a) for a in asset_service.held_assets(db())]))


@bp.get("/assets/<int:asset_id>")
@api_access(Scope.CatalogRead)
def get_asset(asset_id: int) -> Response:
    return _localised(jsonify(describe(asset_service.get_held(db(), asset_id))))


@bp.post("/assets")
@api_access(Scope.AssetsWrite)
def create_asset() -> tuple[Response, int]:
    if not allows(current_roles(), Permission.AssetsCreate):
        raise Forbidden(Code.STEWARD_ONLY)
    body = json_body("asset.schema.json")
    policy = body.get("policy", {})
    asset = asset_service.create_asset(
        db(),
        state().bylaws,
        slug=body["slug"],
        title=body["title"],
        description=body.get("description", {}),
        keywords=body.get("keywords", []),
        fields=body["fields"],
        contributing_classes=body.get("contributing_classes"),
        permitted=policy.get("permitted", {}),
        prohibited=policy.get("prohibited", []),
        duties=policy.get("duties", []),
        actor=members.actor_of(current_member()),
        at=now(),
    )
    return _localised(jsonify(describe(asset))), 201


@bp.post("/assets/<int:asset_id>/records")
@api_access(Scope.RecordsWrite)
def contribute(asset_id: int) -> tuple[Response, int]:
    member = current_member()
    if member is None:
        raise Forbidden(Code.MEMBER_ONLY)
    body = json_body("record.schema.json")
    asset = asset_service.get_held(db(), asset_id)
    record = records.contribute(
        db(), keyring(), asset=asset, member=member, values=body["values"], at=now()
    )
    return jsonify(id=record.uid, asset_id=asset.id, created_at=record.created_at.isoformat()), 201


@bp.get("/assets/<int:asset_id>/records")
@writes
@api_access(Scope.RecordsRead)
def read_records(asset_id: int) -> Response:
    client = current_client()
    if client is None:
        raise Forbidden(Code.CONSUMER_ONLY)
    purpose = request.args.get("purpose", "")
    if not purpose:
        raise InvalidInput(Code.PURPOSE_REQUIRED, "purpose")
    try:
        after = int(request.args.get("after", "0"))
        limit = int(request.args.get("limit", "100"))
    except ValueError:
        raise InvalidInput(Code.PAGE_INVALID, "after") from None
    if after < 0 or not 1 <= limit <= records.MAX_PAGE:
        raise InvalidInput(Code.PAGE_INVALID, "limit")
    asset = asset_service.get_held(db(), asset_id)
    page = records.read_page(
        db(),
        keyring(),
        state().bylaws.taxonomy,
        client=client,
        asset=asset,
        purpose=purpose,
        after=after,
        limit=limit,
        at=now(),
    )
    body: dict[str, Any] = {
        "asset_id": asset.id,
        "purpose": purpose,
        "fields": page.fields,
        "records": page.records,
        "next": None,
    }
    if page.next_after is not None:
        body["next"] = url_for(
            "api.read_records",
            asset_id=asset.id,
            purpose=purpose,
            after=page.next_after,
            limit=limit,
        )
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"  # a withdrawal must reach the next read
    return response
