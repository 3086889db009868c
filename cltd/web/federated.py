"""Federation helpers shared by the API and the pages: the peer fetcher built from settings,
a peer's refusal as a problem, and the federated catalog (local datasets and every pinned
peer's), searched by keyword, language and permitted purpose."""

from __future__ import annotations

from typing import Any

from flask import url_for
from werkzeug.wrappers import Response

from cltd.adapters.peerhttp import PeerFetcher
from cltd.services import assets as asset_service
from cltd.services import peers
from cltd.web.i18n import pick_language
from cltd.web.problems import problem
from cltd.web.state import db, state


def fetcher() -> PeerFetcher:
    return peers.fetcher_for(state().settings)


def peer_refusal(refused: peers.PeerRefused) -> Response:
    return problem(502, refused.detail, code=f"peer.{refused.reason}", field="url")


def _purpose_iris(purpose: str | None) -> frozenset[str] | None:
    """The purpose asked for and its ancestors: a permission for a broader purpose covers it."""
    if not purpose:
        return None
    taxonomy = state().bylaws.taxonomy
    found = taxonomy.purposes.get(purpose)
    if found is None:  # an IRI, or a purpose this trust does not list
        return frozenset({purpose})
    keys = (purpose, *taxonomy.ancestors(purpose))
    return frozenset(taxonomy.purposes[key].iri for key in keys)


def search_everywhere(
    *, keyword: str | None, language: str | None, purpose: str | None
) -> list[dict[str, Any]]:
    wanted = _purpose_iris(purpose)
    taxonomy = state().bylaws.taxonomy
    results: list[dict[str, Any]] = []
    for asset in asset_service.held_assets(db()):
        permitted = {
            taxonomy.purposes[p].iri
            for p in (asset.policy or {}).get("permitted", {})  # type: ignore[union-attr]
            if p in taxonomy.purposes
        }
        words = " ".join([*asset.title.values(), *asset.description.values(), *asset.keywords])
        if keyword and keyword.lower() not in words.lower():
            continue
        if language and language not in {*asset.title, *asset.description}:
            continue
        if wanted and not wanted & permitted:
            continue
        results.append(
            {
                "trust": state().settings.trust_name,
                "local": True,
                "title": asset.title,
                "display_title": pick_language(asset.title)[0],
                "keywords": asset.keywords,
                "purposes": sorted(permitted),
                "access_request": url_for("api.request_access", _external=True),
                "asset_id": asset.id,
            }
        )
    for peer, dataset in peers.search(
        db(), keyword=keyword, language=language, purpose_iris=wanted
    ):
        results.append(
            {
                "trust": peer.name,
                "trust_origin": peer.origin,
                "local": False,
                "iri": dataset.iri,
                "title": dataset.title,
                "display_title": pick_language(dataset.title)[0],
                "keywords": dataset.keywords,
                "purposes": dataset.purposes,
                "access_request": peer.origin + "/api/v1/access-requests",
                "access_url": dataset.access_url,
            }
        )
    return results
