"""The published side: the catalog page's DCAT shape (language maps, the ODRL policy with DPV
purposes, the asset lock), paging by change sequence, tombstones, the trust description, and
the context served at the URL the documents name."""

from __future__ import annotations

import json
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.resources import schemas_dir
from cltd.rules.bylaws import Bylaws, ProposalKind
from cltd.rules.tally import Ballot
from cltd.services import assets, custody, governance
from tests.services.test_governance import board


def make_assets(session: Session, bylaws: Bylaws, count: int) -> list[int]:
    made = []
    for n in range(count):
        asset = assets.create_asset(
            session,
            bylaws,
            slug=f"survey-{n}",
            title={"en": f"Survey {n}", "es": f"Encuesta {n}"},
            description={"en": "Damp and repairs.", "es": "Humedad y reparaciones."},
            keywords=["housing"],
            actor="steward:test",
            at=now(),
            fields=[{"name": "street", "type": "text"}],
            permitted={"public-benefit": ["street"]},
            prohibited=["marketing"],
        )
        made.append(asset.id)
    session.commit()
    return made


def test_a_catalog_page_is_dcat_with_language_maps_and_an_odrl_policy(
    client: FlaskClient, db_session: Session, bylaws: Bylaws
) -> None:
    make_assets(db_session, bylaws, 1)
    page = client.get("/federation/catalog?since=0")
    assert page.status_code == 200 and page.mimetype == "application/ld+json"
    document = page.get_json()
    base = "http://localhost"
    assert document["@context"] == [
        base + "/contexts/cltd-v1.jsonld",
        "https://w3id.org/security/data-integrity/v2",
    ]
    assert document["type"] == "Catalog" and document["proof"]
    (dataset,) = document["dataset"]
    assert dataset["title"] == {"en": "Survey 0", "es": "Encuesta 0"}
    assert dataset["description"]["es"] == "Humedad y reparaciones."
    assert dataset["assetLocked"] is True
    assert dataset["transferApprovedBy"] == list(bylaws.class_keys())
    (distribution,) = dataset["distribution"]
    assert (
        distribution["accessURL"].endswith(f"/api/v1/assets/{1}/records")
        or "/records" in distribution["accessURL"]
    )
    assert distribution["accessService"]["endpointDescription"] == base + "/api/v1/openapi.json"
    policy = dataset["hasPolicy"]
    permitted = [c["rightOperand"] for p in policy["permission"] for c in p["constraint"]]
    prohibited = [c["rightOperand"] for p in policy["prohibition"] for c in p["constraint"]]
    assert permitted == ["https://w3id.org/dpv#PublicBenefit"]
    assert "https://w3id.org/dpv#Marketing" in prohibited
    # Purposes the bylaws prohibit are prohibited on every asset.
    assert "https://w3id.org/dpv#PersonalisedAdvertising" in prohibited


def test_paging_by_cursor_skips_nothing_and_repeats_nothing(
    client: FlaskClient, db_session: Session, bylaws: Bylaws
) -> None:
    ids = make_assets(db_session, bylaws, 7)
    seen, since, pages = [], 0, 0
    while True:
        document = client.get(f"/federation/catalog?since={since}&limit=3").get_json()
        seen += [d["identifier"] for d in document["dataset"]]
        pages += 1
        if "next" not in document:
            break
        assert document["next"].endswith(f"since={document['cursor']}")
        since = document["cursor"]
    assert pages == 3 and seen == [f"survey-{n}" for n in range(7)]
    # An edit moves the asset to the end: the next incremental page holds it alone.
    assets.describe_asset(
        db_session,
        ids[2],
        title={"en": "Survey two, revised"},
        description=None,
        keywords=None,
        actor="steward:test",
        at=now(),
    )
    db_session.commit()
    document = client.get(f"/federation/catalog?since={document['cursor']}").get_json()
    assert [d["identifier"] for d in document["dataset"]] == ["survey-2"]
    assert document["dataset"][0]["title"] == {"en": "Survey two, revised"}


def test_bad_paging_parameters_are_a_400(client: FlaskClient) -> None:
    for query in ("since=-1", "since=x", "limit=0", "limit=100000"):
        assert client.get(f"/federation/catalog?{query}").status_code == 400


def test_a_transferred_asset_is_a_tombstone_naming_the_custodian_and_the_decision(
    client: FlaskClient, db_session: Session, bylaws: Bylaws
) -> None:
    (asset_id,) = make_assets(db_session, bylaws, 1)
    seats = board(db_session, bylaws)
    asset = assets.get_held(db_session, asset_id)
    proposal = governance.propose(
        db_session,
        bylaws,
        author=seats["public"][0],
        kind=ProposalKind.TRANSFER,
        title="To the Northern trust",
        text="",
        at=now(),
        asset=asset,
        recipient="Northern Community Data Trust",
        recipient_locked=True,
    )
    governance.open_voting(db_session, bylaws, proposal, actor="t", at=now())
    for members in seats.values():
        for member in members[:2]:
            governance.cast(db_session, proposal.id, member=member, choice=Ballot.YES, at=now())
    custody.execute(db_session, proposal.id, actor="t", at=now() + timedelta(seconds=1))
    db_session.commit()
    (tombstone,) = client.get("/federation/catalog?since=0").get_json()["dataset"]
    assert tombstone["custodyStatus"] == "transferred"
    assert tombstone["custodian"] == "Northern Community Data Trust"
    assert tombstone["decision"].endswith(f"/federation/decisions/{proposal.id}")
    assert "distribution" not in tombstone and "hasPolicy" not in tombstone


def test_the_trust_describes_itself_and_serves_its_context(
    client: FlaskClient, bylaws: Bylaws
) -> None:
    description = client.get("/federation/trust").get_json()
    assert description["type"] == ["Agent", "Trust"]
    assert description["did"] == "did:web:localhost"
    assert set(description["bylawsSummary"]) == {"en", "es", "fr"}
    assert "each class" in description["bylawsSummary"]["en"]
    assert [c["seats"] for c in description["memberClass"]] == [3, 3, 3]
    assert description["assetLocked"] is True and description["proof"]
    served = client.get("/contexts/cltd-v1.jsonld")
    assert served.mimetype == "application/ld+json"
    shipped = (schemas_dir() / "contexts" / "cltd-v1.jsonld").read_text(encoding="utf-8")
    assert json.loads(served.get_data(as_text=True)) == json.loads(shipped)
    assert client.get("/contexts/data-integrity-v2.jsonld").status_code == 404  # not ours
