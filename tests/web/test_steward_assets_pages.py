"""The asset pages: a steward lists and creates assets; a member contributes a record.

Both engines through the fixtures. The create form grows by one language per click without
JavaScript; every kind of bad input is shown at its field and leaves no row; the contribute page
types its inputs by the asset's fields and refuses members of a class that does not contribute.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.models import Asset, Member, Record
from cltd.rules.bylaws import Bylaws
from tests.conftest import TEST_PASSWORD
from tests.web.helpers import csrf_token, sign_in
from tests.web.support import MakeMember
from tests.web.test_mydata_pages import make_asset


def signed_in(client: FlaskClient, member: Member) -> FlaskClient:
    assert sign_in(client, member.email, TEST_PASSWORD).status_code == 302
    return client


def field_errors(html: str, name: str) -> str:
    """The error messages shown at form field NAME (a single input, or a checkbox fieldset)."""
    start = html.index(f'data-testid="field-{name}"')
    tag = html.rindex("<", 0, start)
    end = html.index("</fieldset>" if html.startswith("<fieldset", tag) else "</p>", start)
    return " ".join(re.findall(r'<span class="error" role="alert">([^<]*)</span>', html[start:end]))


def asset_count(db_session: Session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Asset)) or 0


def record_count(db_session: Session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Record)) or 0


def asset_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "slug": "tree-survey",
        "texts-0-language": "en",
        "texts-0-title": "Street trees",
        "texts-0-description": "Every tree on our streets.",
        "keywords": "trees, shade , ",
        "record_fields": "street text required\nspecies text\n\nheight number\nplanted date",
        "contributing_classes": ["contributor", "community"],
        "permitted": "public-benefit: street, species\nresearch-and-development: species, height",
        "prohibited": ["commercial-research"],
        "duties": ["attribution", "report-back"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit(client: FlaskClient, data: dict[str, object]):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/steward/assets").get_data(as_text=True))
    return client.post("/steward/assets", data={**data, "csrf_token": token})


# --- the steward's assets page -------------------------------------------------------------------


def test_the_assets_page_is_for_stewards_only(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    response = client.get("/steward/assets")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=/steward/assets")
    signed_in(client, make_member())
    assert client.get("/steward/assets").status_code == 403
    assert 'href="/steward/assets"' not in client.get("/").get_data(as_text=True)
    token = csrf_token(client.get("/").get_data(as_text=True))
    refused = client.post("/steward/assets", data={**asset_form(), "csrf_token": token})
    assert refused.status_code == 403
    assert asset_count(db_session) == 0
    signed_in(client, make_member(steward=True))
    assert client.get("/steward/assets").status_code == 200
    assert 'href="/steward/assets"' in client.get("/").get_data(as_text=True)


def test_a_steward_creates_an_asset_in_two_languages_with_the_add_language_button(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    signed_in(client, make_member(steward=True))
    page = client.get("/steward/assets").get_data(as_text=True)
    assert 'name="texts-0-title"' in page and 'name="texts-1-title"' not in page
    assert 'name="add_language"' in page and "<script" not in page

    grown = submit(client, asset_form(add_language="Add a language", new_language="fr"))
    assert grown.status_code == 200
    html = grown.get_data(as_text=True)
    assert (
        'name="texts-1-title"' in html
        and 'name="texts-1-language" type="hidden" value="fr"' in html
    )
    assert 'value="Street trees"' in html  # what was typed is kept
    assert asset_count(db_session) == 0  # adding a language saves nothing

    created = submit(
        client,
        asset_form(
            **{
                "texts-1-language": "fr",
                "texts-1-title": "Arbres des rues",
                "texts-1-description": "Chaque arbre de nos rues.",
            }
        ),
    )
    assert created.status_code == 302, field_errors(created.get_data(as_text=True), "slug")
    asset = db_session.scalars(select(Asset).where(Asset.slug == "tree-survey")).one()
    assert asset.title == {"en": "Street trees", "fr": "Arbres des rues"}
    assert asset.description == {
        "en": "Every tree on our streets.",
        "fr": "Chaque arbre de nos rues.",
    }
    assert asset.keywords == ["trees", "shade"]
    assert asset.fields == [
        {"name": "street", "type": "text", "required": True},
        {"name": "species", "type": "text", "required": False},
        {"name": "height", "type": "number", "required": False},
        {"name": "planted", "type": "date", "required": False},
    ]
    assert asset.contributing_classes == ["contributor", "community"]
    assert asset.policy == {
        "permitted": {
            "public-benefit": ["species", "street"],
            "research-and-development": ["height", "species"],
        },
        "prohibited": ["commercial-research"],
        "duties": ["attribution", "report-back"],
    }
    assert asset.locked

    listed = client.get("/steward/assets").get_data(as_text=True)
    card = listed[listed.index('data-testid="asset-tree-survey"') :]
    card = card[: card.index("</li>")]
    assert "Street trees" in card and 'data-testid="locked"' in card
    assert "0 records" in card and "Public Benefit" in card and "Commercial Research" in card


def test_the_third_language_is_the_last_one_offered(
    client: FlaskClient, make_member: MakeMember
) -> None:
    signed_in(client, make_member(steward=True, locale="es"))
    page = client.get("/steward/assets").get_data(as_text=True)
    assert 'name="texts-0-language" type="hidden" value="es"' in page
    once = submit(client, asset_form(**{"texts-0-language": "es"}, add_language="1"))
    html = once.get_data(as_text=True)
    assert 'name="texts-1-language" type="hidden" value="en"' in html  # the first one missing
    twice = submit(
        client,
        asset_form(**{"texts-0-language": "es", "texts-1-language": "en"}, add_language="1"),
    )
    html = twice.get_data(as_text=True)
    assert 'name="texts-2-language" type="hidden" value="fr"' in html
    assert 'name="add_language"' not in html  # every language has its row


BAD_INPUTS = [
    ("slug", {"slug": "Not A Slug!"}, 422, "lowercase letters"),
    ("slug", {"slug": ""}, 400, ""),
    ("texts-0-title", {"texts-0-title": "  "}, 422, "title in at least one language"),
    ("record_fields", {"record_fields": "street"}, 422, "Line 1: write a field"),
    ("record_fields", {"record_fields": "street text\nrooms integer please"}, 422, "Line 2"),
    ("record_fields", {"record_fields": "street colour"}, 422, "is not a field type"),
    ("record_fields", {"record_fields": "Street text"}, 422, "not a usable field name"),
    ("record_fields", {"record_fields": "street text\nstreet text"}, 422, "Line 2:"),
    ("permitted", {"permitted": "public-benefit street"}, 422, "Line 1: write"),
    ("permitted", {"permitted": "flying: street"}, 422, "has no purpose “flying”"),
    ("permitted", {"permitted": "public-benefit: colour"}, 422, "has no field “colour”"),
    ("permitted", {"permitted": "marketing: street"}, 422, "bylaws prohibit"),
    (
        "permitted",
        {"permitted": "public-benefit: street\npublic-benefit: species"},
        422,
        "already listed",
    ),
    (
        "permitted",
        {"permitted": "commercial-research: street", "prohibited": ["commercial-research"]},
        422,
        "both permitted and prohibited",
    ),
    ("prohibited", {"prohibited": ["flying"]}, 422, "has no purpose “flying”"),
    ("contributing_classes", {"contributing_classes": ["landlords"]}, 422, "“landlords”"),
    ("duties", {"duties": ["secrecy"]}, 422, "attribution, share-alike or report-back"),
]


@pytest.mark.parametrize(
    ("field", "change", "status", "message"),
    BAD_INPUTS,
    ids=[f"{field}-{i}" for i, (field, *_rest) in enumerate(BAD_INPUTS)],
)
def test_bad_asset_input_is_shown_at_its_field_and_leaves_no_row(
    client: FlaskClient,
    db_session: Session,
    make_member: MakeMember,
    field: str,
    change: dict[str, object],
    status: int,
    message: str,
) -> None:
    signed_in(client, make_member(steward=True))
    response = submit(client, asset_form(**change))
    assert response.status_code == status
    errors = field_errors(response.get_data(as_text=True), field)
    assert errors, f"no error at {field}"
    assert message in errors
    assert asset_count(db_session) == 0


def test_a_taken_short_name_is_a_conflict_at_the_slug(
    client: FlaskClient, db_session: Session, make_member: MakeMember, bylaws: Bylaws
) -> None:
    make_asset(db_session, bylaws, slug="tree-survey")
    signed_in(client, make_member(steward=True))
    response = submit(client, asset_form())
    assert response.status_code == 409
    assert "already has this short name" in field_errors(response.get_data(as_text=True), "slug")
    assert asset_count(db_session) == 1


# --- contributing a record ------------------------------------------------------------------------

SURVEY_FIELDS = [
    {"name": "street", "type": "text", "required": True},
    {"name": "damp", "type": "boolean"},
    {"name": "rooms", "type": "integer"},
    {"name": "rent", "type": "number"},
    {"name": "since", "type": "date"},
]


def test_contribute_page_asks_for_each_field_by_its_type_and_saves_one_record(
    client: FlaskClient, db_session: Session, make_member: MakeMember, bylaws: Bylaws
) -> None:
    asset_id = make_asset(db_session, bylaws, fields=SURVEY_FIELDS)
    assert client.get(f"/assets/{asset_id}/contribute").status_code == 302
    ana = make_member(name="Ana")
    signed_in(client, ana)
    page = client.get(f"/assets/{asset_id}/contribute").get_data(as_text=True)
    assert 'type="checkbox" id="value-damp"' in page
    assert 'type="number" step="1" inputmode="numeric" id="value-rooms"' in page
    assert 'type="number" step="any" inputmode="decimal" id="value-rent"' in page
    assert 'type="date" id="value-since"' in page
    assert f'href="/assets/{asset_id}/contribute"' in client.get("/my-data").get_data(as_text=True)
    response = client.post(
        f"/assets/{asset_id}/contribute",
        data={
            "csrf_token": csrf_token(page),
            "value-street": "Mill Lane",
            "value-damp": "true",
            "value-rooms": "3",
            "value-rent": "612.50",
            "value-since": "2019-04-01",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/my-data#asset-{asset_id}"
    record = db_session.scalars(select(Record)).one()
    assert record.asset_id == asset_id and record.contributor_id == ana.id
    assert b"Mill Lane" not in record.ciphertext


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("street", {"value-street": ""}, "The field “street” is required."),
        ("rooms", {"value-rooms": "many"}, "must be of type integer"),
        ("rooms", {"value-rooms": "2.5"}, "must be of type integer"),
        ("rent", {"value-rent": "cheap"}, "must be of type number"),
        ("since", {"value-since": "01/04/2019"}, "must be of type date"),
        ("street", {"value-street": "x" * 2001}, "must be of type text"),
    ],
)
def test_bad_record_input_is_shown_at_its_field_and_saves_nothing(
    client: FlaskClient,
    db_session: Session,
    make_member: MakeMember,
    bylaws: Bylaws,
    field: str,
    values: dict[str, str],
    message: str,
) -> None:
    asset_id = make_asset(db_session, bylaws, fields=SURVEY_FIELDS)
    signed_in(client, make_member())
    page = client.get(f"/assets/{asset_id}/contribute").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "value-street": "Mill Lane", **values}
    response = client.post(f"/assets/{asset_id}/contribute", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    found = re.search(rf'data-testid="error-{field}">([^<]*)<', html)
    assert found and message in found.group(1)
    assert record_count(db_session) == 0


def test_a_member_of_a_class_that_does_not_contribute_gets_a_clear_refusal(
    client: FlaskClient, db_session: Session, make_member: MakeMember, bylaws: Bylaws
) -> None:
    asset_id = make_asset(db_session, bylaws, contributing_classes=["contributor"])
    outsider = make_member("public", name="Pat")
    signed_in(client, outsider)
    page = client.get(f"/assets/{asset_id}/contribute")
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert 'data-testid="not-contributing"' in html
    assert "Contributors" in html and "Public representatives" in html
    assert f'href="/assets/{asset_id}/contribute"' not in client.get("/my-data").get_data(
        as_text=True
    )
    token = csrf_token(client.get("/my-data").get_data(as_text=True))
    refused = client.post(
        f"/assets/{asset_id}/contribute", data={"csrf_token": token, "value-street": "X"}
    )
    assert refused.status_code == 403
    assert record_count(db_session) == 0


def test_an_unknown_asset_is_a_404(client: FlaskClient, make_member: MakeMember) -> None:
    signed_in(client, make_member())
    assert client.get("/assets/4242/contribute").status_code == 404
    assert client.get("/assets/99999999999/contribute").status_code == 404
