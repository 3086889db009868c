"""A member's own pages: the consent grid and its toggles, receipts, who used my data, leaving.

Both engines through the fixtures. The grid is checked against consents made by the service and
by its own forms; a toggle reaches the very next consumer read (invariants 1 and 2); receipts
verify against the trust's key; leaving shreds the member's data and nothing else (invariant 6).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.adapters import dataintegrity
from cltd.adapters.clock import now
from cltd.adapters.keys import load_signing_key
from cltd.config import Settings
from cltd.models import Consent, Member, MemberKey, MemberStatus, OutboxJob, OutboxStatus, Record
from cltd.rules.bylaws import Bylaws
from cltd.services import assets as asset_service
from cltd.services import consents as consent_service
from tests.conftest import TEST_PASSWORD
from tests.support import mint, register
from tests.web.helpers import csrf_token, sign_in
from tests.web.support import MakeMember, build_app, signed_in_as

FIELDS = [
    {"name": "street", "type": "text", "required": True},
    {"name": "damp", "type": "boolean"},
    {"name": "rooms", "type": "integer"},
]


def make_asset(db_session: Session, bylaws: Bylaws, **overrides: object) -> int:
    values: dict[str, object] = {
        "slug": "housing-survey",
        "title": {"en": "Housing survey", "es": "Encuesta de vivienda"},
        "description": {"en": "Damp and repairs."},
        "keywords": ["housing"],
        "fields": FIELDS,
        "permitted": {
            "public-benefit": ["street", "damp"],
            "research-and-development": ["damp", "rooms"],
        },
        "prohibited": ["commercial-research"],
        "duties": ["attribution"],
    }
    values.update(overrides)
    asset = asset_service.create_asset(
        db_session,
        bylaws,
        actor="steward:test",
        at=now(),
        **values,  # type: ignore[arg-type]
    )
    db_session.commit()
    return asset.id


def signed_in(client: FlaskClient, member: Member) -> FlaskClient:
    assert sign_in(client, member.email, TEST_PASSWORD).status_code == 302
    return client


def cell_state(html: str, anchor: str) -> str:
    found = re.search(rf'data-testid="{re.escape(anchor)}" data-state="(\w+)"', html)
    assert found, f"no cell {anchor}"
    return found.group(1)


def cell_html(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</li>", start)]


def cell_classes(html: str, anchor: str) -> str:
    found = re.search(rf'<li class="([^"]*)"\s+id="{re.escape(anchor)}"', html)
    assert found, f"no cell {anchor}"
    return found.group(1)


def toggle(client: FlaskClient, asset_id: int | None, purpose: str, consent: bool, **extra: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/my-data").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "asset_id": "" if asset_id is None else str(asset_id),
        "purpose": purpose,
        "consent": "1" if consent else "0",
        **extra,
    }
    return client.post("/my-data/consent", data=data)


def live(db_session: Session, member: Member) -> list[tuple[int | None, str]]:
    db_session.expire_all()
    return [
        (c.asset_id, c.purpose) for c in consent_service.live_consents(db_session, member.id, now())
    ]


def consent_count(db_session: Session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Consent)) or 0


# --- who may see these pages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/my-data", "/my-data/uses", "/my-data/leave", "/my-data/consents/1/receipt.json"]
)
def test_anonymous_visitor_is_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/signin?next={path}")


def test_every_member_and_steward_has_their_own_page(
    client: FlaskClient, make_member: MakeMember
) -> None:
    assert 'data-testid="nav-my-data"' not in client.get("/").get_data(as_text=True)
    for member in (make_member(name="Ana"), make_member(steward=True, name="Sam")):
        signed_in(client, member)
        for path in ("/my-data", "/my-data/uses", "/my-data/leave"):
            assert client.get(path).status_code == 200, path
        assert 'href="/my-data"' in client.get("/").get_data(as_text=True)


# --- the grid --------------------------------------------------------------------------------


def test_the_grid_reflects_consents_coverage_and_the_asset_policy(
    client: FlaskClient, db_session: Session, make_member: MakeMember, bylaws: Bylaws
) -> None:
    asset_id = make_asset(db_session, bylaws)
    ana = make_member(name="Ana")
    taxonomy = bylaws.taxonomy
    for asset, purpose in ((asset_id, "public-benefit"), (None, "research-and-development")):
        consent_service.grant(
            db_session, taxonomy, member=ana, asset_id=asset, purpose=purpose, at=now()
        )
    db_session.commit()
    html = signed_in(client, ana).get("/my-data").get_data(as_text=True)

    assert cell_state(html, f"c-{asset_id}-public-benefit") == "consented"
    assert cell_state(html, f"c-{asset_id}-improve-public-services") == "covered"
    assert "by your consent to “Public Benefit”" in cell_html(
        html, f"c-{asset_id}-improve-public-services"
    )
    assert cell_state(html, "c-all-public-benefit") == "none"
    assert cell_state(html, "c-all-research-and-development") == "consented"
    assert cell_state(html, "c-all-scientific-research") == "covered"
    assert cell_state(html, f"c-{asset_id}-research-and-development") == "covered"
    assert "for all assets" in cell_html(html, f"c-{asset_id}-research-and-development")
    assert cell_state(html, f"c-{asset_id}-service-provision") == "none"
    # Purposes the bylaws prohibit are not offered at all.
    assert "c-all-marketing" not in html and f"c-{asset_id}-advertising" not in html
    # The asset's policy: not permitted, or prohibited by the policy, is "not used".
    for purpose in ("service-provision", "commercial-research"):
        assert f'data-testid="unused-c-{asset_id}-{purpose}"' in html
    assert f'data-testid="unused-c-{asset_id}-public-benefit"' not in html
    # Children are indented under their parent.
    assert "depth-0" in cell_classes(html, "c-all-research-and-development")
    assert "depth-1" in cell_classes(html, "c-all-scientific-research")


def test_purpose_names_and_asset_titles_follow_the_members_language(
    client: FlaskClient, db_session: Session, make_member: MakeMember, bylaws: Bylaws
) -> None:
    make_asset(db_session, bylaws, slug="only-french", title={"fr": "Enquête logement"})
    html = signed_in(client, make_member(locale="es")).get("/my-data").get_data(as_text=True)
    for key in ("public-benefit", "scientific-research", "service-provision"):
        assert bylaws.taxonomy[key].name("es") in html
    assert bylaws.taxonomy["public-benefit"].description("es") in html
    assert "Enquête logement" in html
    assert 'data-testid="fallback"' in html  # shown in French: no Spanish title yet


def test_a_toggle_grants_then_withdraws_and_the_next_read_obeys(
    client: FlaskClient, db_session: Session, make_member: MakeMember, bylaws: Bylaws
) -> None:
    asset_id = make_asset(db_session, bylaws)
    ana = make_member(name="Ana")
    signed_in(client, ana)
    token = csrf_token(client.get(f"/assets/{asset_id}/contribute").get_data(as_text=True))
    made = client.post(
        f"/assets/{asset_id}/contribute",
        data={"csrf_token": token, "value-street": "Mill Lane", "value-rooms": "3"},
    )
    assert made.status_code == 302
    consumer = register(db_session, scopes=["records:read", "access:request", "catalog:read"])
    as_consumer = mint(db_session, consumer, "records:read access:request catalog:read")
    granted = client.post(
        "/api/v1/access-requests",
        headers=as_consumer,
        json={
            "asset_id": asset_id,
            "purpose": "improve-public-services",
            "justification": "Planning repairs with the council this winter.",
        },
    )
    assert granted.status_code == 201
    url = f"/api/v1/assets/{asset_id}/records?purpose=improve-public-services"

    def streets() -> list[str]:
        return [r["street"] for r in client.get(url, headers=as_consumer).get_json()["records"]]

    assert streets() == []  # opt-in

    given = toggle(client, asset_id, "public-benefit", True)
    assert given.status_code == 302
    assert given.headers["Location"].endswith(f"/my-data#c-{asset_id}-public-benefit")
    assert live(db_session, ana) == [(asset_id, "public-benefit")]
    html = client.get("/my-data").get_data(as_text=True)
    assert cell_state(html, f"c-{asset_id}-public-benefit") == "consented"
    assert cell_state(html, f"c-{asset_id}-improve-public-services") == "covered"
    assert streets() == ["Mill Lane"]

    withdrawn = toggle(client, asset_id, "public-benefit", False)
    assert withdrawn.status_code == 302
    assert live(db_session, ana) == []
    assert streets() == []  # the very next read leaves Ana out
    html = client.get("/my-data").get_data(as_text=True)
    assert cell_state(html, f"c-{asset_id}-public-benefit") == "none"
    # Both ends are in the history, each with a receipt link.
    assert len(re.findall(r'data-testid="receipt-\d+"', html)) == 1
    assert "no end" in html


def test_a_consent_for_all_assets_and_a_limited_time(
    client: FlaskClient, db_session: Session, make_member: MakeMember, bylaws: Bylaws
) -> None:
    asset_id = make_asset(db_session, bylaws)
    ana = make_member()
    signed_in(client, ana)
    assert toggle(client, None, "public-benefit", True, expires="month").status_code == 302
    assert (
        toggle(client, asset_id, "scientific-research", True, until="2099-06-30").status_code == 302
    )
    db_session.expire_all()
    by_purpose = {c.purpose: c for c in consent_service.live_consents(db_session, ana.id, now())}
    month = by_purpose["public-benefit"]
    assert month.asset_id is None and month.expires_at is not None
    assert timedelta(days=27) < month.expires_at - now() < timedelta(days=32)
    assert by_purpose["scientific-research"].expires_at == datetime(2099, 7, 1, tzinfo=UTC)
    html = client.get("/my-data").get_data(as_text=True)
    assert cell_state(html, "c-all-public-benefit") == "consented"
    assert "Consented until" in cell_html(html, "c-all-public-benefit")
    assert cell_state(html, f"c-{asset_id}-public-benefit") == "covered"


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"purpose": "public-benefit", "until": "2001-01-01"}, 422, "cannot end before it begins"),
        ({"purpose": "public-benefit", "until": "31/12/2030"}, 400, "needs a day"),
        ({"purpose": "public-benefit", "expires": "forever"}, 400, "could not be understood"),
        ({"purpose": "public-benefit", "consent": "maybe"}, 400, "could not be understood"),
        ({"purpose": "flying-to-the-moon"}, 422, "has no purpose"),
        ({"purpose": "public-benefit", "asset_id": "999999"}, 404, "no such asset"),
        ({"purpose": "public-benefit", "asset_id": "99999999999999"}, 404, "no such asset"),
        ({"purpose": "public-benefit", "asset_id": "one"}, 404, "no such asset"),
        ({"purpose": ""}, 400, "could not be understood"),
    ],
)
def test_a_bad_change_is_refused_on_the_page_and_changes_nothing(
    client: FlaskClient,
    db_session: Session,
    make_member: MakeMember,
    bylaws: Bylaws,
    change: dict[str, str],
    status: int,
    message: str,
) -> None:
    make_asset(db_session, bylaws)
    signed_in(client, make_member())
    before = consent_count(db_session)
    token = csrf_token(client.get("/my-data").get_data(as_text=True))
    data = {"csrf_token": token, "asset_id": "", "consent": "1", **change}
    response = client.post("/my-data/consent", data=data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert 'data-testid="consent-error"' in html and message in html
    assert consent_count(db_session) == before


def test_a_post_without_its_csrf_token_is_refused(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    signed_in(client, make_member())
    response = client.post(
        "/my-data/consent", data={"asset_id": "", "purpose": "public-benefit", "consent": "1"}
    )
    assert response.status_code == 400
    assert consent_count(db_session) == 0


def test_the_history_shows_times_in_the_trust_zone_and_the_members_locale(
    tmp_path, engine, session_factory, db_session: Session, make_member: MakeMember, bylaws: Bylaws
) -> None:  # type: ignore[no-untyped-def]
    app = build_app(tmp_path, engine, session_factory, timezone="America/Mexico_City")
    client = app.test_client()
    ana = make_member(locale="es")
    granted = datetime(2030, 1, 15, 18, 30, tzinfo=UTC)
    consent_service.grant(
        db_session,
        bylaws.taxonomy,
        member=ana,
        asset_id=None,
        purpose="public-benefit",
        at=granted,
        expires_at=granted + timedelta(days=30),
    )
    db_session.commit()
    html = signed_in(client, ana).get("/my-data").get_data(as_text=True)
    row = html[html.index('data-testid="history-') :]
    row = row[: row.index("</tr>")]
    zone = ZoneInfo("America/Mexico_City")
    for moment in (granted, granted + timedelta(days=30)):
        assert format_datetime(moment, "short", tzinfo=zone, locale="es") in row
    assert bylaws.taxonomy["public-benefit"].name("es") in row


# --- receipts --------------------------------------------------------------------------------


def test_a_receipt_downloads_and_verifies_against_the_trust_key(
    client: FlaskClient,
    db_session: Session,
    make_member: MakeMember,
    bylaws: Bylaws,
    settings: Settings,
) -> None:
    asset_id = make_asset(db_session, bylaws)
    ana, ben = make_member(), make_member()
    signed_in(client, ana)
    toggle(client, asset_id, "public-benefit", True)
    consent = db_session.scalars(select(Consent).where(Consent.member_id == ana.id)).one()
    response = client.get(f"/my-data/consents/{consent.id}/receipt.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="consent-{consent.id}.json"'
    )
    receipt = response.get_json()
    dataintegrity.verify(receipt, load_signing_key(settings.signing_key_path).public_key())
    assert receipt["type"] == "ConsentReceipt" and receipt["consent"] == consent.id
    assert receipt["asset"] == "housing-survey" and receipt["purpose"] == "public-benefit"
    assert receipt["subject"] == f"member:{ana.id}" and receipt["withdrawn_at"] is None
    tampered = {**receipt, "purpose": "scientific-research"}
    with pytest.raises(dataintegrity.ProofError):
        dataintegrity.verify(tampered, load_signing_key(settings.signing_key_path).public_key())

    other = FlaskClient(client.application, use_cookies=True)
    signed_in(other, ben)
    assert other.get(f"/my-data/consents/{consent.id}/receipt.json").status_code == 404
    assert other.get("/my-data/consents/99999999999/receipt.json").status_code == 404
    assert client.get(f"/my-data/consents/{consent.id + 1000}/receipt.json").status_code == 404


# --- who used my data --------------------------------------------------------------------------


def test_the_uses_page_lists_each_read_and_the_notices_of_withdrawals(
    client: FlaskClient, db_session: Session, make_member: MakeMember, bylaws: Bylaws
) -> None:
    asset_id = make_asset(db_session, bylaws)
    ana, ben = make_member(name="Ana"), make_member(name="Ben")
    consumer = register(
        db_session,
        scopes=["records:read", "access:request"],
        webhook_url="http://127.0.0.1:9/hook",
    )
    as_consumer = mint(db_session, consumer, "records:read access:request")
    client.post(
        "/api/v1/access-requests",
        headers=as_consumer,
        json={
            "asset_id": asset_id,
            "purpose": "improve-public-services",
            "justification": "Planning repairs with the council this winter.",
        },
    )
    signed_in(client, ana)
    token = csrf_token(client.get(f"/assets/{asset_id}/contribute").get_data(as_text=True))
    for street in ("Mill Lane", "Quay Street"):
        client.post(
            f"/assets/{asset_id}/contribute",
            data={"csrf_token": token, "value-street": street},
        )
    assert client.get("/my-data/uses").get_data(as_text=True).count('data-testid="no-uses"') == 1
    toggle(client, asset_id, "public-benefit", True)
    read = client.get(
        f"/api/v1/assets/{asset_id}/records?purpose=improve-public-services", headers=as_consumer
    )
    assert len(read.get_json()["records"]) == 2
    toggle(client, asset_id, "public-benefit", False)
    job = db_session.scalars(select(OutboxJob).where(OutboxJob.member_id == ana.id)).one()

    html = client.get("/my-data/uses").get_data(as_text=True)
    row = html[html.index('data-testid="use"') :]
    row = row[: row.index("</tr>")]
    for expected in ("Housing Study", "City University", "Housing survey", ">2<"):
        assert expected in row, expected
    assert bylaws.taxonomy["improve-public-services"].name("en") in row
    notice = html[html.index('data-testid="notice"') :]
    assert 'data-status="pending"' in notice[:60] and "Waiting to be delivered" in notice

    job.status, job.attempts = OutboxStatus.DEAD, 8
    job.last_error = "could not reach the consumer: [Errno 111] Connection refused"
    db_session.commit()
    html = client.get("/my-data/uses").get_data(as_text=True)
    assert "Given up after 8 attempts" in html
    assert "The consumer’s server could not be reached." in html

    other = FlaskClient(client.application, use_cookies=True)
    signed_in(other, ben)
    theirs = other.get("/my-data/uses").get_data(as_text=True)
    assert 'data-testid="no-uses"' in theirs and 'data-testid="no-notices"' in theirs


# --- leaving ------------------------------------------------------------------------------------


def _records_of(db_session: Session, member: Member) -> int:
    db_session.expire_all()
    return (
        db_session.scalar(
            select(func.count()).select_from(Record).where(Record.contributor_id == member.id)
        )
        or 0
    )


def test_leaving_shreds_the_members_data_and_signs_them_out(
    client: FlaskClient, db_session: Session, make_member: MakeMember, bylaws: Bylaws
) -> None:
    asset_id = make_asset(db_session, bylaws)
    ana, ben = make_member(name="Ana"), make_member(name="Ben")
    for member in (ana, ben):
        signed_in(client, member)
        token = csrf_token(client.get(f"/assets/{asset_id}/contribute").get_data(as_text=True))
        client.post(
            f"/assets/{asset_id}/contribute", data={"csrf_token": token, "value-street": "X"}
        )
    signed_in(client, ana)
    toggle(client, None, "public-benefit", True)
    page = client.get("/my-data/leave").get_data(as_text=True)
    assert "destroyed" in page and "audit log" in page

    response = client.post(
        "/my-data/leave", data={"csrf_token": csrf_token(page), "email": ana.email.upper()}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/my-data/goodbye"
    goodbye = client.get("/my-data/goodbye")
    assert goodbye.status_code == 200 and 'data-testid="goodbye"' in goodbye.get_data(as_text=True)
    assert client.get("/my-data/goodbye").status_code == 302  # shown once
    assert signed_in_as(client) is None

    db_session.expire_all()
    assert _records_of(db_session, ana) == 0 and _records_of(db_session, ben) == 1
    assert db_session.get(MemberKey, ana.id) is None
    assert db_session.get(Member, ana.id).status == MemberStatus.LEFT  # type: ignore[union-attr]
    assert live(db_session, ana) == []
    refused = sign_in(client, ana.email, TEST_PASSWORD)
    assert refused.status_code == 400 and signed_in_as(client) is None


@pytest.mark.parametrize("typed", ["someone-else@example.org", "", "ana"])
def test_a_wrong_confirmation_changes_nothing(
    client: FlaskClient, db_session: Session, make_member: MakeMember, bylaws: Bylaws, typed: str
) -> None:
    asset_id = make_asset(db_session, bylaws)
    ana = make_member(name="Ana")
    signed_in(client, ana)
    token = csrf_token(client.get(f"/assets/{asset_id}/contribute").get_data(as_text=True))
    client.post(f"/assets/{asset_id}/contribute", data={"csrf_token": token, "value-street": "X"})
    response = client.post("/my-data/leave", data={"csrf_token": token, "email": typed})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    field = html[html.index('data-testid="field-email"') :]
    assert "This is not the email address you sign in with" in field[: field.index("</p>")]
    db_session.expire_all()
    assert _records_of(db_session, ana) == 1
    assert db_session.get(Member, ana.id).status == MemberStatus.ACTIVE  # type: ignore[union-attr]
    assert db_session.get(MemberKey, ana.id) is not None
    assert signed_in_as(client) == "Signed in as Ana"
