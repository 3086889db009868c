"""The heart of the trust, end to end through the API: members contribute and consent, a
consumer asks for access and reads only what consent, policy and grant allow; a withdrawal
takes effect on the very next read (invariants 1, 2, 5, 6)."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.models import AuditEntry, OutboxJob
from cltd.services import assets as asset_service
from tests.support import mint, register

FIELDS = [
    {"name": "street", "type": "text", "required": True},
    {"name": "damp", "type": "boolean"},
    {"name": "rooms", "type": "integer"},
]


def make_asset(db_session: Session, bylaws) -> int:  # type: ignore[no-untyped-def]
    asset = asset_service.create_asset(
        db_session,
        bylaws,
        slug="housing-survey",
        title={"en": "Housing survey", "es": "Encuesta"},
        description={"en": "Damp and repairs."},
        keywords=["housing"],
        actor="steward:test",
        at=now(),
        fields=FIELDS,
        permitted={
            "public-benefit": ["street", "damp"],
            "research-and-development": ["damp", "rooms"],
        },
        prohibited=["commercial-research"],
        duties=["attribution"],
    )
    db_session.commit()
    return asset.id


def test_consent_purpose_and_revocation_govern_every_read(
    client, db_session, make_member, bylaws
) -> None:  # type: ignore[no-untyped-def]
    asset_id = make_asset(db_session, bylaws)
    ana, ben = make_member(name="Ana"), make_member(name="Ben")
    app = register(
        db_session,
        scopes=["records:write", "consent:write", "consent:read"],
        confidential=False,
        name="Survey App",
    )
    consumer = register(
        db_session,
        scopes=["records:read", "access:request", "catalog:read"],
        webhook_url="http://127.0.0.1:9/hook",
    )
    as_ana = mint(db_session, app, "records:write consent:write consent:read", ana)
    as_ben = mint(db_session, app, "records:write consent:write consent:read", ben)
    as_consumer = mint(db_session, consumer, "records:read access:request catalog:read")

    for who, street in ((as_ana, "Mill Lane"), (as_ben, "Quay Street")):
        made = client.post(
            f"/api/v1/assets/{asset_id}/records",
            headers=who,
            json={"values": {"street": street, "damp": True, "rooms": 3}},
        )
        assert made.status_code == 201, made.get_json()
    bad = client.post(
        f"/api/v1/assets/{asset_id}/records",
        headers=as_ana,
        json={"values": {"street": "X", "rooms": "many"}},
    )
    assert bad.status_code == 422 and bad.get_json()["field"] == "rooms"

    granted = client.post(
        "/api/v1/access-requests",
        headers=as_consumer,
        json={
            "asset_id": asset_id,
            "purpose": "improve-public-services",
            "justification": "Planning repairs with the council this winter.",
        },
    )
    assert granted.status_code == 201 and granted.get_json()["grant"] is not None
    pending = client.post(
        "/api/v1/access-requests",
        headers=as_consumer,
        json={
            "asset_id": asset_id,
            "purpose": "scientific-research",
            "justification": "A study of damp and health outcomes.",
        },
    )
    assert pending.status_code == 202 and pending.get_json()["status"] == "pending"
    refused = client.post(
        "/api/v1/access-requests",
        headers=as_consumer,
        json={
            "asset_id": asset_id,
            "purpose": "commercial-research",
            "justification": "Selling insights to landlords.",
        },
    )
    assert refused.status_code == 403
    assert refused.get_json()["reason"]["code"] == "purpose.prohibited_by_policy"

    url = f"/api/v1/assets/{asset_id}/records?purpose=improve-public-services"
    assert (
        client.get(url, headers=as_consumer).get_json()["records"] == []
    )  # opt-in: no consent yet

    consent = client.put(
        "/api/v1/consents",
        headers=as_ana,
        json={"asset_id": asset_id, "purpose": "public-benefit", "consent": True},
    )
    assert consent.status_code == 200, consent.get_json()
    page = client.get(url, headers=as_consumer).get_json()
    assert [r["street"] for r in page["records"]] == ["Mill Lane"]
    assert set(page["records"][0]) == {"id", "street", "damp"}  # minimised: no rooms
    not_granted = client.get(
        f"/api/v1/assets/{asset_id}/records?purpose=public-policy-making", headers=as_consumer
    )
    assert not_granted.status_code == 403

    withdrawn = client.put(
        "/api/v1/consents",
        headers=as_ana,
        json={"asset_id": asset_id, "purpose": "public-benefit", "consent": False},
    )
    assert withdrawn.status_code == 200 and withdrawn.get_json()["ended"]
    assert client.get(url, headers=as_consumer).get_json()["records"] == []
    notices = db_session.scalars(select(OutboxJob)).all()
    assert [n.target for n in notices] == ["http://127.0.0.1:9/hook"]

    uses = client.get("/api/v1/me/uses", headers=as_ana).get_json()
    assert [(u["consumer"], u["purpose"], u["records"]) for u in uses["uses"]] == [
        ("Housing Study", "improve-public-services", 1)
    ]
    assert client.get("/api/v1/me/uses", headers=as_ben).get_json()["uses"] == []
    reads = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "records.read")).all()
    assert len(reads) == 3


def test_no_plaintext_reaches_the_database(client, db_session, make_member, bylaws) -> None:  # type: ignore[no-untyped-def]
    asset_id = make_asset(db_session, bylaws)
    member = make_member()
    app = register(db_session, scopes=["records:write"], confidential=False, name="Survey App")
    headers = mint(db_session, app, "records:write", member)
    canary = "CANARY-7f3a-Mill-Lane-do-not-store"
    assert (
        client.post(
            f"/api/v1/assets/{asset_id}/records",
            headers=headers,
            json={"values": {"street": canary}},
        ).status_code
        == 201
    )
    db_session.commit()
    dialect = db_session.get_bind().dialect.name
    if dialect == "sqlite":
        dump = "\n".join(db_session.connection().connection.dbapi_connection.iterdump())
    else:
        rows = db_session.execute(
            text("SELECT string_agg(t::text, E'\\n') FROM (SELECT * FROM records) t")
        ).scalar_one()
        dump = rows or ""
    assert "records" in dump or dialect != "sqlite"
    assert canary not in dump
