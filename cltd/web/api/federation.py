"""/api/v1 for federation: the peers this trust pins, and the federated catalog.

GET  /peers                 peers:write    each peer's status (stewards)
POST /peers                 peers:write    fetch a peer, check the key given, pin it
POST /peers/<id>/sync       peers:write    ask the worker to sync one peer now (202)
GET  /federated-catalog     catalog:read   local and peers' datasets: ?q= &language= &purpose=
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.models import Peer
from cltd.rules.codes import Code
from cltd.rules.roles import Permission, Scope, allows
from cltd.services import members, peers
from cltd.services.errors import Forbidden, InvalidInput
from cltd.web.api import bp
from cltd.web.auth import current_member, current_roles
from cltd.web.federated import fetcher, peer_refusal, search_everywhere
from cltd.web.inputs import json_body
from cltd.web.oauth.resource import api_access
from cltd.web.state import db


def _steward() -> None:
    if current_member() is None or not allows(current_roles(), Permission.PeersManage):
        raise Forbidden(Code.STEWARD_ONLY)


def describe(peer: Peer) -> dict[str, Any]:
    return {
        "id": peer.id,
        "name": peer.name,
        "origin": peer.origin,
        "did": peer.did,
        "key": peer.key_multibase,
        "fingerprint": peers.fingerprint(peer.key_multibase),
        "cursor": peer.cursor,
        "datasets_held": peer.datasets_held,
        "last_good_sync": peer.last_good_at.isoformat() if peer.last_good_at else None,
        "last_attempt": peer.last_attempt_at.isoformat() if peer.last_attempt_at else None,
        "last_error": peer.last_error_code,
        "last_error_detail": peer.last_error_detail,
    }


@bp.get("/peers")
@api_access(Scope.PeersWrite)
def list_peers() -> Response:
    _steward()
    return jsonify(peers=[describe(p) for p in peers.list_peers(db())])


@bp.post("/peers")
@api_access(Scope.PeersWrite)
def pin_peer() -> tuple[Response, int]:
    _steward()
    body = json_body("peer.schema.json")
    try:
        intro = peers.introduce(fetcher(), body["url"])
    except peers.PeerRefused as refused:
        return peer_refusal(refused), 502
    if body["key"] != intro.key_multibase:
        raise InvalidInput(Code.PEER_KEY_MISMATCH, "key")
    peer = peers.pin(db(), intro, actor=members.actor_of(current_member()), at=now())
    return jsonify(describe(peer)), 201


@bp.post("/peers/<int:peer_id>/sync")
@api_access(Scope.PeersWrite)
def sync_peer(peer_id: int) -> tuple[Response, int]:
    """Ask for a sync now: the worker does it (a sync can take minutes; a request cannot)."""
    _steward()
    peer = peers.request_sync(db(), peer_id, actor=members.actor_of(current_member()), at=now())
    return jsonify(describe(peer)), 202


@bp.get("/federated-catalog")
@api_access(Scope.CatalogRead)
def federated_catalog() -> Response:
    results = search_everywhere(
        keyword=request.args.get("q") or None,
        language=request.args.get("language") or None,
        purpose=request.args.get("purpose") or None,
    )
    return jsonify(datasets=results)
