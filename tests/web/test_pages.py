"""The pages as people use them: the front page, CSRF on every form, the steward's members page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from cltd.adapters.clock import now
from cltd.models import AuditEntry, Member, WebSession
from cltd.rules.bylaws import Bylaws
from cltd.services import seats as seat_service
from tests.conftest import TEST_PASSWORD
from tests.web.helpers import csrf_token, post_form, sign_in
from tests.web.support import (
    MakeMember,
    audit_count,
    html_lang,
    member_count,
    signed_in_as,
)

NEW_PASSWORD = "a long first password"


def _field_block(html: str, name: str) -> str:
    """The <p class="field"> of the form field NAME, with its label, input and errors."""
    marker = html.index(f'data-testid="field-{name}"')
    start = html.rindex('<p class="field">', 0, marker)
    return html[start : html.index("</p>", marker)]


def _member_by_email(db_session: Session, email: str) -> Member | None:
    db_session.expire_all()
    return db_session.scalar(select(Member).where(Member.email == email))


def _board_member(make_member: MakeMember, db_session: Session, bylaws: Bylaws) -> Member:
    member = make_member(bylaws.class_keys()[1], name="Board Member")
    seat_service.assign_seat(
        db_session,
        bylaws,
        member=member,
        member_class=member.member_class,
        number=1,
        actor="steward:test",
        at=now(),
    )
    db_session.commit()
    return member


# --- the front page ---------------------------------------------------------------------------


def test_front_page_for_a_visitor(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Test Trust" in html
    assert 'data-testid="signin-link"' in html
    assert 'data-testid="whoami"' not in html
    assert "The trust holds no assets yet." in html


def test_front_page_for_a_member_names_their_class(
    client: FlaskClient, make_member: MakeMember
) -> None:
    member = make_member("contributor", name="Carol Contributor")
    sign_in(client, member.email, TEST_PASSWORD)
    html = client.get("/").get_data(as_text=True)
    assert "Signed in as Carol Contributor" in html
    assert "Welcome, Carol Contributor" in html
    assert "Contributors" in html
    assert "You hold a seat on the board." not in html
    assert "You are a steward of this trust." not in html
    assert 'href="/steward/members"' not in html


def test_front_page_for_a_board_member_and_a_steward(
    app: Flask, make_member: MakeMember, db_session: Session, bylaws: Bylaws
) -> None:
    board = _board_member(make_member, db_session, bylaws)
    client = app.test_client()
    sign_in(client, board.email, TEST_PASSWORD)
    html = client.get("/").get_data(as_text=True)
    assert "You hold a seat on the board." in html
    assert "You are a steward of this trust." not in html

    steward = make_member(steward=True)
    client = app.test_client()
    sign_in(client, steward.email, TEST_PASSWORD)
    html = client.get("/").get_data(as_text=True)
    assert "You are a steward of this trust." in html
    assert 'href="/steward/members"' in html


def test_member_names_are_escaped(client: FlaskClient, make_member: MakeMember) -> None:
    member = make_member(name="<script>alert(1)</script>")
    sign_in(client, member.email, TEST_PASSWORD)
    html = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_stylesheet_is_served(client: FlaskClient) -> None:
    response = client.get("/static/cltd.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    response.close()


# --- CSRF: every POST route refuses a request without a token ---------------------------------


# Called by OAuth clients, which authenticate themselves (RFC 6749 §2.3); a browser's cookie
# gives no power there, so they carry no CSRF token (see test_client_endpoints_ignore_cookies).
CLIENT_AUTHENTICATED = {"oauth.token", "oauth.revoke", "oauth.introspect"}
# Messages from peer trusts carry no cookie: each is signed, and verified against the key this
# trust pinned for its sender (tests/federation/test_transfer_refusals.py).
SIGNED_BY_PEER = "transfer_messages."


def _post_routes(app: Flask) -> list[str]:
    paths = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint in CLIENT_AUTHENTICATED or rule.endpoint.startswith(SIGNED_BY_PEER):
                continue
            if "POST" in (rule.methods or ()):
                paths.append(url_for(rule.endpoint, **dict.fromkeys(rule.arguments, 1)))
    return sorted(paths)


def test_a_peer_message_without_a_valid_signature_changes_nothing(
    client: FlaskClient, make_member: MakeMember, db_session: Session
) -> None:
    """A browser tricked into posting to a peer-message route (with the member's cookie)
    carries no signature from a pinned trust: refused, nothing written."""
    member = make_member()
    sign_in(client, member.email, TEST_PASSWORD)
    before = audit_count(db_session)
    for path in ("/federation/offers", "/federation/transfers/" + "0" * 32 + "/acceptance"):
        response = client.post(path, data={"email": "x@example.org"})
        assert response.status_code in (403, 404, 422), path
        assert response.mimetype == "application/problem+json", path
    assert audit_count(db_session) == before


def test_the_known_post_routes_are_all_enumerated(app: Flask) -> None:
    """If this list grows, the CSRF test below covers the new route without being edited."""
    routes = _post_routes(app)
    assert {"/signin", "/signout", "/language", "/steward/members"} <= set(routes)


def _state(db_session: Session) -> tuple[int, int, int, list[tuple[int, str | None]]]:
    db_session.expire_all()
    sessions = db_session.scalar(select(func.count()).select_from(WebSession)) or 0
    locales = [(m.id, m.locale) for m in db_session.scalars(select(Member).order_by(Member.id))]
    return member_count(db_session), audit_count(db_session), sessions, locales


def _forget_sign_in_attempts(app: Flask) -> None:
    for extension in app.extensions.get("limiter", set()):
        extension.reset()


def test_every_post_route_refuses_a_missing_csrf_token(
    app: Flask, make_member: MakeMember, db_session: Session, bylaws: Bylaws
) -> None:
    steward = make_member(steward=True, name="Steward Sam")
    form = {
        "email": "csrf-victim@example.org",
        "password": NEW_PASSWORD,
        "display_name": "Victim",
        "member_class": bylaws.class_keys()[0],
        "locale": "fr",
        "next": "/",
    }
    for path in _post_routes(app):
        _forget_sign_in_attempts(app)  # one sign-in per route: more routes than the limit
        client = app.test_client()
        sign_in(client, steward.email, TEST_PASSWORD)
        before = _state(db_session)
        response = client.post(path, data=form, headers={"Accept": "application/json"})
        assert response.status_code == 400, path
        assert response.mimetype == "application/problem+json", path
        body = response.get_json()
        assert body["status"] == 400 and body["code"] == "request.csrf_failed", path
        assert body["field"] == "csrf_token", path
        assert _state(db_session) == before, path
        assert signed_in_as(client) == "Signed in as Steward Sam", path
        html = client.get("/").get_data(as_text=True)
        assert html_lang(html) == "en", path
    assert _member_by_email(db_session, "csrf-victim@example.org") is None


def test_every_post_route_refuses_a_csrf_token_of_another_session(
    app: Flask, make_member: MakeMember, db_session: Session, bylaws: Bylaws
) -> None:
    steward = make_member(steward=True)
    attacker = app.test_client()
    foreign_token = csrf_token(attacker.get("/signin").get_data(as_text=True))
    form = {
        "email": "csrf-victim@example.org",
        "password": NEW_PASSWORD,
        "display_name": "Victim",
        "member_class": bylaws.class_keys()[0],
        "locale": "fr",
        "next": "/",
        "csrf_token": foreign_token,
    }
    for path in _post_routes(app):
        victim = app.test_client()
        sign_in(victim, steward.email, TEST_PASSWORD)
        victim.get("/")  # the victim has a token of their own
        before = _state(db_session)
        response = victim.post(path, data=form)
        assert response.status_code == 400, path
        if path.startswith("/api/"):
            assert response.get_json()["code"] == "request.csrf_failed", path
        else:
            assert 'data-testid="problem"' in response.get_data(as_text=True), path
        assert _state(db_session) == before, path
    assert _member_by_email(db_session, "csrf-victim@example.org") is None


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_client_endpoints_ignore_cookies(app: Flask, make_member: MakeMember, path: str) -> None:
    """A signed-in browser posting there is just an unauthenticated client."""
    steward = make_member(steward=True)
    client = app.test_client()
    sign_in(client, steward.email, TEST_PASSWORD)
    response = client.post(path, data={"grant_type": "client_credentials", "token": "x"})
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] in ("invalid_client", "invalid_request")


def test_a_made_up_csrf_token_is_refused(client: FlaskClient, make_member: MakeMember) -> None:
    member = make_member()
    client.get("/signin")
    response = client.post(
        "/signin",
        data={"email": member.email, "password": TEST_PASSWORD, "csrf_token": "made-up"},
    )
    assert response.status_code == 400
    assert signed_in_as(client) is None


def test_csrf_failure_page_is_readable_html(client: FlaskClient) -> None:
    response = client.post("/language", data={"locale": "fr"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'data-testid="problem"' in html
    assert "did not come from this site" in html
    assert "Traceback" not in html


def test_csrf_failure_page_still_knows_who_is_signed_in(
    client: FlaskClient, make_member: MakeMember
) -> None:
    """A signed-in member whose form expired must not be told they are signed out.

    Fails today: CSRFProtect's before_request runs before auth.load_signed_in_member, so the
    problem page renders with no member (a "Sign in" link, and the browser's language
    instead of the member's saved one).
    """
    member = make_member(name="Still Here", locale="fr")
    sign_in(client, member.email, TEST_PASSWORD)
    response = client.post("/language", data={"locale": "es"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-testid="signed-in-as"' in html, "the CSRF problem page shows a signed-out header"
    assert html_lang(html) == "fr"


# --- the steward's members page ---------------------------------------------------------------


def test_members_page_sends_a_visitor_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/steward/members")
    assert response.status_code == 302
    assert response.headers["Location"] == "/signin?next=/steward/members"


def test_members_page_post_from_a_visitor_admits_nobody(
    client: FlaskClient, db_session: Session, bylaws: Bylaws
) -> None:
    before = member_count(db_session)
    response = post_form(
        client,
        "/signin",
        "/steward/members",
        {
            "display_name": "Sneaky",
            "email": "sneaky@example.org",
            "member_class": bylaws.class_keys()[0],
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin")
    assert member_count(db_session) == before


def test_members_page_refuses_a_plain_member(client: FlaskClient, make_member: MakeMember) -> None:
    member = make_member()
    sign_in(client, member.email, TEST_PASSWORD)
    response = client.get("/steward/members")
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'data-testid="problem"' in html
    assert "You are not allowed to do this" in html
    assert "Traceback" not in html


def test_members_page_refuses_a_board_member(
    client: FlaskClient, make_member: MakeMember, db_session: Session, bylaws: Bylaws
) -> None:
    board = _board_member(make_member, db_session, bylaws)
    sign_in(client, board.email, TEST_PASSWORD)
    assert client.get("/api/v1/me").get_json()["roles"] == ["board", "member"]
    response = client.get("/steward/members")
    assert response.status_code == 403
    assert 'data-testid="problem"' in response.get_data(as_text=True)
    before = member_count(db_session)
    refused = post_form(
        client,
        "/",
        "/steward/members",
        {
            "display_name": "Board Pick",
            "email": "pick@example.org",
            "member_class": bylaws.class_keys()[0],
            "password": NEW_PASSWORD,
        },
    )
    assert refused.status_code == 403
    assert member_count(db_session) == before


def test_members_page_refusal_is_problem_json_for_an_api_client(
    client: FlaskClient, make_member: MakeMember
) -> None:
    member = make_member()
    sign_in(client, member.email, TEST_PASSWORD)
    response = client.get("/steward/members", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 403


@pytest.fixture
def steward_client(client: FlaskClient, make_member: MakeMember) -> FlaskClient:
    steward = make_member(steward=True, name="Steward Sue")
    assert sign_in(client, steward.email, TEST_PASSWORD).status_code == 302
    return client


def test_steward_admits_a_member(
    app: Flask, steward_client: FlaskClient, db_session: Session, bylaws: Bylaws
) -> None:
    klass = bylaws.class_keys()[2]
    response = post_form(
        steward_client,
        "/steward/members",
        "/steward/members",
        {
            "display_name": "New Neighbour",
            "email": "New.Neighbour@Example.org",
            "member_class": klass,
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/steward/members"
    page = steward_client.get("/steward/members").get_data(as_text=True)
    assert "New Neighbour is now a member of the trust." in page
    table = page[page.index('data-testid="member-list"') :]
    assert "New Neighbour" in table and "new.neighbour@example.org" in table
    assert bylaws.member_class(klass).name("en") in table

    member = _member_by_email(db_session, "new.neighbour@example.org")
    assert member is not None and member.member_class == klass and not member.is_steward
    steward = db_session.scalar(select(Member).where(Member.display_name == "Steward Sue"))
    assert steward is not None
    entry = db_session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "member.added", AuditEntry.subject == f"member:{member.id}"
        )
    )
    assert entry is not None
    assert entry.actor == f"member:{steward.id}"

    newcomer = app.test_client()
    assert sign_in(newcomer, "new.neighbour@example.org", NEW_PASSWORD).status_code == 302
    assert signed_in_as(newcomer) == "Signed in as New Neighbour"


def test_steward_admits_another_steward(
    steward_client: FlaskClient, db_session: Session, bylaws: Bylaws
) -> None:
    response = post_form(
        steward_client,
        "/steward/members",
        "/steward/members",
        {
            "display_name": "Second Steward",
            "email": "second@example.org",
            "member_class": bylaws.class_keys()[0],
            "password": NEW_PASSWORD,
            "is_steward": "y",
        },
    )
    assert response.status_code == 302
    member = _member_by_email(db_session, "second@example.org")
    assert member is not None and member.is_steward


def _admit(client: FlaskClient, **fields: str) -> TestResponse:
    data = {
        "display_name": "Someone",
        "email": "someone@example.org",
        "member_class": "contributor",
        "password": NEW_PASSWORD,
        **fields,
    }
    return post_form(client, "/steward/members", "/steward/members", data)


def test_duplicate_email_is_409_naming_the_email_field(
    steward_client: FlaskClient, make_member: MakeMember, db_session: Session
) -> None:
    existing = make_member(email="taken@example.org")
    before, audit_before = member_count(db_session), audit_count(db_session)
    response = _admit(steward_client, email="  TAKEN@example.org")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    email_row = _field_block(html, "email")
    assert "A member with this email address already exists." in email_row
    assert 'aria-invalid="true"' in email_row
    assert 'aria-invalid="true"' not in _field_block(html, "display_name")
    assert member_count(db_session) == before
    assert audit_count(db_session) == audit_before
    assert _member_by_email(db_session, "taken@example.org").id == existing.id  # type: ignore[union-attr]


def test_short_password_is_400_naming_the_password_field(
    steward_client: FlaskClient, db_session: Session
) -> None:
    before, audit_before = member_count(db_session), audit_count(db_session)
    response = _admit(steward_client, password="short")
    assert response.status_code == 400
    password_row = _field_block(response.get_data(as_text=True), "password")
    assert 'aria-invalid="true"' in password_row
    assert re.search(r'role="alert">[^<]*12[^<]*<', password_row), password_row
    assert member_count(db_session) == before
    assert audit_count(db_session) == audit_before
    assert _member_by_email(db_session, "someone@example.org") is None


def test_unknown_class_is_refused_and_admits_nobody(
    steward_client: FlaskClient, db_session: Session
) -> None:
    before, audit_before = member_count(db_session), audit_count(db_session)
    response = _admit(steward_client, member_class="landlords")
    assert 400 <= response.status_code < 500
    assert 'aria-invalid="true"' in _field_block(response.get_data(as_text=True), "member_class")
    assert member_count(db_session) == before
    assert audit_count(db_session) == audit_before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"display_name": "x" * 121}, "display_name"),
    ],
)
def test_other_bad_input_names_its_field_and_admits_nobody(
    steward_client: FlaskClient, db_session: Session, fields: dict[str, str], field: str
) -> None:
    before, audit_before = member_count(db_session), audit_count(db_session)
    response = _admit(steward_client, **fields)
    assert 400 <= response.status_code < 500
    assert response.status_code != 403
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in _field_block(html, field)
    assert "Traceback" not in html
    assert member_count(db_session) == before
    assert audit_count(db_session) == audit_before
