"""The trust's catalog as DCAT 3 in JSON-LD, paged by change sequence, and its description.

A page lists the assets whose last change has a sequence number above `since`, in that order;
the sequence is the audit sequence of the change, taken under the audit head's row lock, so
changes commit in sequence order and a peer that pages with the cursor never skips one or gets
one twice. Transferred and retired assets stay in the catalog as tombstones naming the new
custodian and linking the decision. Documents here are unsigned; the web layer signs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.models import Asset, AssetStatus
from cltd.rules.bylaws import Bylaws, ProposalKind
from cltd.rules.purposes import Access

CONTEXT_PATH = "/contexts/cltd-v1.jsonld"
DATA_INTEGRITY = "https://w3id.org/security/data-integrity/v2"
JSON_MEDIA_TYPE = "https://www.iana.org/assignments/media-types/application/json"
# dct:language takes a dct:LinguisticSystem: the EU vocabulary's IRIs for the languages here.
LANGUAGE_AUTHORITY = "http://publications.europa.eu/resource/authority/language/"
LANGUAGE_CODES = {"en": "ENG", "es": "SPA", "fr": "FRA"}


def language_node(code: str) -> dict[str, str]:
    return {
        "id": LANGUAGE_AUTHORITY + LANGUAGE_CODES.get(code, code.upper()),
        "type": "LinguisticSystem",
    }


def language_code(node: object) -> str | None:
    """Back from a language node (or a plain code) to the two-letter code."""
    iri = node.get("id") if isinstance(node, dict) else node
    if not isinstance(iri, str):
        return None
    three = iri.removeprefix(LANGUAGE_AUTHORITY)
    found = [two for two, code in LANGUAGE_CODES.items() if code == three]
    return found[0] if found else (iri if len(iri) == 2 else None)


PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


def contexts(base: str) -> list[str]:
    # Ours first: the data-integrity context is @protected and must come last.
    return [base + CONTEXT_PATH, DATA_INTEGRITY]


@dataclass(frozen=True)
class Trust:
    """What the catalog says about its publisher."""

    base: str  # the trust's origin, e.g. https://riverside.example
    name: str
    did: str

    @property
    def agent(self) -> str:
        return self.base + "/federation/trust"

    def publisher(self) -> dict[str, str]:
        return {"id": self.agent, "type": "Agent", "name": self.name}


def dataset_iri(base: str, asset: Asset) -> str:
    return f"{base}/federation/datasets/{asset.slug}"


def _policy(bylaws: Bylaws, trust: Trust, asset: Asset, iri: str) -> dict[str, Any]:
    taxonomy = bylaws.taxonomy
    policy = asset.policy or {}
    permitted = policy.get("permitted", {})
    assert isinstance(permitted, Mapping)
    prohibited = set(policy.get("prohibited", []))  # type: ignore[arg-type]
    prohibited |= {p.key for p in taxonomy.purposes.values() if p.access == Access.PROHIBITED}

    def rule(purpose_key: str) -> dict[str, Any]:
        return {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": "purpose",
                    "operator": "isA",
                    "rightOperand": taxonomy.purposes[purpose_key].iri,
                }
            ],
        }

    return {
        "id": iri + "#policy",
        "type": "Offer",
        "assigner": trust.agent,
        "target": iri,
        "permission": [rule(p) for p in sorted(permitted) if p in taxonomy.purposes],
        "prohibition": [rule(p) for p in sorted(prohibited) if p in taxonomy.purposes],
    }


def dataset(bylaws: Bylaws, trust: Trust, asset: Asset) -> dict[str, Any]:
    iri = dataset_iri(trust.base, asset)
    node: dict[str, Any] = {
        "id": iri,
        "type": "Dataset",
        "identifier": asset.slug,
        "title": dict(asset.title),
        "modified": asset.modified_at.isoformat(),
        "publisher": trust.publisher(),
        "changeSeq": asset.change_seq,
        "custodyStatus": asset.status,
    }
    if asset.status != AssetStatus.HELD:
        # A tombstone: what it was, where it went, and the decision that sent it there.
        node["decision"] = f"{trust.base}/federation/decisions/{asset.decision_id}"
        if asset.custodian:
            node["custodian"] = asset.custodian
        return node
    transfer_rule = bylaws.decisions[ProposalKind.TRANSFER]
    node.update(
        {
            "description": dict(asset.description) or dict(asset.title),
            "keyword": list(asset.keywords),
            "language": [language_node(c) for c in sorted({*asset.title, *asset.description})],
            "contactPoint": {"type": "Kind", "fn": trust.name, "hasURL": trust.agent},
            "assetLocked": asset.locked,
            "transferApprovedBy": list(transfer_rule.per_class),
            "distribution": [
                {
                    "type": "Distribution",
                    "title": {"en": "Records, for the purposes the policy permits"},
                    "accessURL": f"{trust.base}/api/v1/assets/{asset.id}/records",
                    "mediaType": {"id": JSON_MEDIA_TYPE, "type": "MediaType"},
                    "accessService": {
                        "type": "DataService",
                        "title": {"en": "The trust's OAuth-protected API"},
                        "endpointURL": f"{trust.base}/api/v1",
                        "endpointDescription": f"{trust.base}/api/v1/openapi.json",
                    },
                }
            ],
            "hasPolicy": _policy(bylaws, trust, asset, iri),
        }
    )
    if asset.provenance:
        # Received from another trust: where it came from, and by which transfer.
        node["wasDerivedFrom"] = asset.provenance["dataset"]
        node["receivedFrom"] = asset.provenance["trust"]
        node["transferId"] = asset.provenance["transfer"]
    return node


def page(
    session: Session, bylaws: Bylaws, trust: Trust, *, since: int, limit: int = PAGE_SIZE
) -> dict[str, Any]:
    """One page of changes after SINCE (a change sequence), oldest change first."""
    assets = list(
        session.scalars(
            select(Asset)
            .where(Asset.change_seq > since, Asset.status != AssetStatus.ARRIVING)
            .order_by(Asset.change_seq)
            .limit(limit + 1)
        )
    )
    more = len(assets) > limit
    assets = assets[:limit]
    cursor = assets[-1].change_seq if assets else since
    document: dict[str, Any] = {
        "@context": contexts(trust.base),
        "id": f"{trust.base}/federation/catalog?since={since}",
        "type": "Catalog",
        "title": {"en": trust.name},
        "description": {"en": f"The data assets {trust.name} holds for its community."},
        "publisher": trust.publisher(),
        "dataset": [dataset(bylaws, trust, asset) for asset in assets],
        "cursor": cursor,
    }
    if more:
        document["next"] = f"{trust.base}/federation/catalog?since={cursor}"
    return document


def decisions_url(base: str) -> str:
    return base + "/federation/decisions"


def description(
    bylaws: Bylaws,
    trust: Trust,
    *,
    place: str,
    languages: list[str],
    summaries: Mapping[str, str],
    known_peers: list[str],
) -> dict[str, Any]:
    """The trust description at a stable URL: who it is, the rules it keeps, where to read it,
    and the trusts it pins (for discovery: a peer shows them, never trusts them)."""
    transfer = bylaws.decisions[ProposalKind.TRANSFER]
    return {
        "@context": contexts(trust.base),
        "id": trust.agent,
        "type": ["Agent", "Trust"],
        "name": trust.name,
        "did": trust.did,
        "spatial": place,
        "language": [language_node(code) for code in languages],
        "homepage": trust.base + "/",
        "catalog": trust.base + "/federation/catalog",
        "decisions": decisions_url(trust.base),
        "bylawsVersion": bylaws.version,
        "bylawsSummary": dict(summaries),
        "memberClass": [
            {"identifier": c.key, "title": dict(c.names), "seats": c.seats} for c in bylaws.classes
        ],
        "assetLocked": bylaws.asset_lock.recipient_must_be_locked,
        "transferApprovedBy": list(transfer.per_class),
        "knows": known_peers,
    }
