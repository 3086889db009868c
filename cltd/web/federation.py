"""What the trust publishes for its peers: its did:web DID document (/.well-known/did.json),
its description, its DCAT catalog in signed pages, and the JSON-LD context its documents name.

The Ed25519 key is published as a Multikey for assertionMethod; the verification method's id
is the DID plus the key's multibase, the same id every signed document names.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, request
from flask_babel import force_locale, gettext

from cltd.adapters import dataintegrity, jsonld, rotation
from cltd.adapters.clock import now
from cltd.config import SUPPORTED_LOCALES
from cltd.models import Asset, AssetStatus, Proposal
from cltd.services import catalog, decisions, peers
from cltd.web.identity import published, signing_key, trust_base, trust_did, verification_method
from cltd.web.state import db, state

bp = Blueprint("federation", __name__)

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
JSON_LD = "application/ld+json"


def _json_ld(document: dict[str, Any], mimetype: str = JSON_LD) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False), mimetype=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public documents, no credentials
    return response


@bp.get("/.well-known/did.json")
def did_document() -> Response:
    method = verification_method()
    return _json_ld(
        {
            "@context": DID_CONTEXTS,
            "id": trust_did(),
            "verificationMethod": [
                {
                    "id": method,
                    "type": "Multikey",
                    "controller": trust_did(),
                    "publicKeyMultibase": dataintegrity.public_multikey(signing_key().public_key()),
                }
            ],
            "assertionMethod": [method],
        },
        "application/did+json",
    )


def _trust() -> catalog.Trust:
    return catalog.Trust(trust_base(), state().settings.trust_name, trust_did())


def _summaries() -> dict[str, str]:
    """The bylaws in plain words, in every language the trust speaks."""
    bylaws = state().bylaws
    summaries = {}
    for language in SUPPORTED_LOCALES:
        with force_locale(language):
            classes = ", ".join(
                gettext("%(name)s (%(seats)s seats)", name=c.name(language), seats=c.seats)
                for c in bylaws.classes
            )
            summaries[language] = gettext(
                "Three member classes share the board: %(classes)s. A proposal passes only if "
                "it passes in each class. Assets are held under an asset lock: they leave the "
                "trust only by such a decision, and only for another asset-locked trust.",
                classes=classes,
            )
    return summaries


@bp.get("/federation/trust")
def trust_description() -> Response:
    document = catalog.description(
        state().bylaws,
        _trust(),
        place=state().settings.place,
        languages=list(SUPPORTED_LOCALES),
        summaries=_summaries(),
        known_peers=[p.origin + "/federation/trust" for p in peers.list_peers(db())],
    )
    return _json_ld(published(document, now()))


@bp.get("/federation/catalog")
def catalog_page() -> Response:
    try:
        since = int(request.args.get("since", "0"))
        limit = int(request.args.get("limit", str(catalog.PAGE_SIZE)))
    except ValueError:
        abort(400)
    if since < 0 or not 1 <= limit <= catalog.MAX_PAGE_SIZE:
        abort(400)
    document = catalog.page(db(), state().bylaws, _trust(), since=since, limit=limit)
    return _json_ld(published(document, now()))


@bp.get("/federation/decisions")
def decision_page() -> Response:
    try:
        since = int(request.args.get("since", "0"))
        limit = int(request.args.get("limit", str(decisions.PAGE_SIZE)))
    except ValueError:
        abort(400)
    if since < 0 or not 1 <= limit <= catalog.MAX_PAGE_SIZE:
        abort(400)
    document = decisions.page(
        db(), _trust(), since=since, limit=limit, votes_public=state().bylaws.votes_public
    )
    return _json_ld(published(document, now()))


@bp.get("/federation/decisions/<int:proposal_id>")
def decision_record(proposal_id: int) -> Response:
    proposal = db().get(Proposal, proposal_id)
    if proposal is None or proposal.closed_seq is None:
        abort(404)
    document = decisions.record(db(), _trust(), proposal, votes_public=state().bylaws.votes_public)
    return _json_ld(published(document, now()))


@bp.get("/federation/datasets/<slug>")
def dataset(slug: str) -> Response:
    asset = db().query(Asset).filter(Asset.slug == slug).one_or_none()
    if asset is None or asset.status == AssetStatus.ARRIVING:
        abort(404)
    node = catalog.dataset(state().bylaws, _trust(), asset)
    return _json_ld({"@context": catalog.contexts(trust_base()), **node})


@bp.get("/federation/key-rotations")
def key_rotations() -> Response:
    """Each key change, signed by the key it replaced: how peers follow a rotation."""
    return _json_ld({"rotations": rotation.rotations(state().settings.data_dir)})


@bp.get("/contexts/<name>")
def context(name: str) -> Response:
    """Our own contexts, served at the URL our documents name (W3C ones are not ours)."""
    served = {file for url, file in jsonld.context_index().items() if url.startswith("/")}
    if name not in served:
        abort(404)
    text = (jsonld.contexts_dir() / name).read_text(encoding="utf-8")
    response = Response(text, mimetype=JSON_LD)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
