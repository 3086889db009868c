"""Signing in and out as a member would: the password, the cookie, idle expiry, next=, limits."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from cltd.adapters.clock import now
from cltd.models import AuditEntry, Member, MemberStatus, WebSession
from tests.conftest import TEST_PASSWORD
from tests.web.helpers import csrf_token, post_form, sign_in
from tests.web.support import COOKIE, MakeMember, build_app, session_cookie, signed_in_as

WRONG = "The email address or the password is not right."


def _sessions_of(db_session: Session, member_id: int) -> int:
    return (
        db_session.scalar(
            select(func.count()).select_from(WebSession).where(WebSession.member_id == member_id)
        )
        or 0
    )


# --- signing in -------------------------------------------------------------------------------


def test_right_password_signs_in_and_the_front_page_says_who(
    client: FlaskClient, make_member: MakeMember, db_session: Session
) -> None:
    member = make_member(name="Ada Lovelace")
    response = sign_in(client, member.email, TEST_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_as(client) == "Signed in as Ada Lovelace"
    assert _sessions_of(db_session, member.id) == 1
    signed_in = db_session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "session.signed_in", AuditEntry.subject == f"member:{member.id}"
        )
    )
    assert signed_in == 1


def test_email_is_matched_whatever_its_case_and_spaces(
    client: FlaskClient, make_member: MakeMember
) -> None:
    make_member(name="Grace Hopper", email="grace@example.org")
    response = sign_in(client, "  Grace@Example.ORG ", TEST_PASSWORD)
    assert response.status_code == 302
    assert signed_in_as(client) == "Signed in as Grace Hopper"


def test_wrong_password_is_refused_with_a_message_and_no_session(
    client: FlaskClient, make_member: MakeMember, db_session: Session
) -> None:
    member = make_member()
    response = sign_in(client, member.email, TEST_PASSWORD + "!")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-testid="signin-error"' in html and WRONG in html
    assert "Traceback" not in html
    assert signed_in_as(client) is None
    assert _sessions_of(db_session, member.id) == 0


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(
    client: FlaskClient, make_member: MakeMember
) -> None:
    member = make_member()
    wrong_password = sign_in(client, member.email, "not the password at all")
    unknown_email = sign_in(client, "nobody-here@example.org", TEST_PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 400

    def error_of(html: str) -> str:
        start = html.index('data-testid="signin-error">')
        return html[start : html.index("</p>", start)]

    assert error_of(wrong_password.get_data(as_text=True)) == error_of(
        unknown_email.get_data(as_text=True)
    )
    assert WRONG in unknown_email.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_empty_form_is_a_400_not_a_crash(client: FlaskClient) -> None:
    response = post_form(client, "/signin", "/signin", {"email": "", "password": ""})
    assert response.status_code == 400
    assert signed_in_as(client) is None


def test_signin_page_of_a_signed_in_member_still_renders(
    client: FlaskClient, make_member: MakeMember
) -> None:
    member = make_member()
    sign_in(client, member.email, TEST_PASSWORD)
    assert client.get("/signin").status_code == 200


# --- signing out ------------------------------------------------------------------------------


def _sign_out(client: FlaskClient) -> None:
    response = post_form(client, "/", "/signout", {})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_out_shows_the_sign_in_link_again(
    client: FlaskClient, make_member: MakeMember, db_session: Session
) -> None:
    member = make_member(name="Signing Out")
    sign_in(client, member.email, TEST_PASSWORD)
    assert signed_in_as(client) == "Signed in as Signing Out"
    _sign_out(client)
    assert signed_in_as(client) is None
    assert _sessions_of(db_session, member.id) == 0


def test_cookie_copied_before_sign_out_is_worthless_after_it(
    app: Flask, client: FlaskClient, make_member: MakeMember
) -> None:
    """R8: sign-out ends the session on the server, not just in this browser."""
    member = make_member(name="Replay Target")
    sign_in(client, member.email, TEST_PASSWORD)
    assert signed_in_as(client) == "Signed in as Replay Target"
    stolen = session_cookie(client)
    assert stolen

    thief = app.test_client()
    thief.set_cookie(COOKIE, stolen)
    # The copy works while the session lives...
    assert signed_in_as(thief) == "Signed in as Replay Target"

    _sign_out(client)
    replay = app.test_client()
    replay.set_cookie(COOKIE, stolen)
    assert signed_in_as(replay) is None
    me = replay.get("/api/v1/me")
    assert me.status_code == 401


def test_sign_out_without_being_signed_in_just_goes_home(client: FlaskClient) -> None:
    _sign_out(client)
    assert signed_in_as(client) is None


def test_a_member_who_left_cannot_sign_in_and_their_session_ends(
    app: Flask, client: FlaskClient, make_member: MakeMember, db_session: Session
) -> None:
    member = make_member(name="Leaving Member")
    sign_in(client, member.email, TEST_PASSWORD)
    assert signed_in_as(client) == "Signed in as Leaving Member"
    db_session.execute(
        update(Member).where(Member.id == member.id).values(status=MemberStatus.LEFT)
    )
    db_session.commit()
    assert signed_in_as(client) is None
    again = app.test_client()
    response = sign_in(again, member.email, TEST_PASSWORD)
    assert response.status_code == 400
    assert WRONG in response.get_data(as_text=True)  # no hint that the address exists
    assert signed_in_as(again) is None


# --- the cookie changes at sign-in (no fixation) ---------------------------------------------


def test_cookie_value_changes_at_sign_in(client: FlaskClient, make_member: MakeMember) -> None:
    member = make_member()
    token = csrf_token(client.get("/signin").get_data(as_text=True))
    before = session_cookie(client)
    assert before, "the sign-in page gives an anonymous session for its CSRF token"
    client.post(
        "/signin", data={"email": member.email, "password": TEST_PASSWORD, "csrf_token": token}
    )
    after = session_cookie(client)
    assert after and after != before


def test_planted_pre_login_cookie_does_not_become_signed_in(
    app: Flask, make_member: MakeMember
) -> None:
    """The attacker gets a cookie, plants it in the victim's browser, the victim signs in."""
    member = make_member(name="Victim")
    attacker = app.test_client()
    attacker.get("/signin")
    planted = session_cookie(attacker)
    assert planted

    victim = app.test_client()
    victim.set_cookie(COOKIE, planted)
    response = sign_in(victim, member.email, TEST_PASSWORD)
    assert response.status_code == 302
    assert signed_in_as(victim) == "Signed in as Victim"
    assert session_cookie(victim) != planted

    assert signed_in_as(attacker) is None
    assert attacker.get("/api/v1/me").status_code == 401


def test_a_forged_cookie_is_ignored(app: Flask, client: FlaskClient) -> None:
    client.set_cookie(COOKIE, "eyJzaWQiOiJ4In0.forged.signature")
    assert client.get("/").status_code == 200
    assert signed_in_as(client) is None


def test_cookie_flags(client: FlaskClient, make_member: MakeMember) -> None:
    member = make_member()
    response = sign_in(client, member.email, TEST_PASSWORD)
    set_cookie = response.headers["Set-Cookie"]
    assert set_cookie.startswith(COOKIE + "=")
    assert "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie


def test_secure_cookies_setting_marks_the_cookie_secure(
    tmp_path: Path,
    engine: Engine,
    session_factory: sessionmaker[Session],
    make_member: MakeMember,
) -> None:
    app = build_app(tmp_path, engine, session_factory, secure_cookies=True)
    client = app.test_client()
    member = make_member()
    token = csrf_token(client.get("/signin", base_url="https://localhost").get_data(as_text=True))
    response = client.post(
        "/signin",
        base_url="https://localhost",
        data={"email": member.email, "password": TEST_PASSWORD, "csrf_token": token},
        headers={"Referer": "https://localhost/signin"},  # over HTTPS, CSRF checks it too
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


# --- expiry -----------------------------------------------------------------------------------


@pytest.fixture
def idle_app(tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session]) -> Flask:
    return build_app(tmp_path, engine, session_factory, session_idle_minutes=1)


def test_idle_session_expires(idle_app: Flask, make_member: MakeMember) -> None:
    client = idle_app.test_client()
    member = make_member(name="Idle Member")
    sign_in(client, member.email, TEST_PASSWORD)
    assert signed_in_as(client) == "Signed in as Idle Member"
    with client.session_transaction() as session:
        session["seen"] = 0
    assert signed_in_as(client) is None
    assert client.get("/api/v1/me").status_code == 401


def test_idle_limit_is_the_setting(idle_app: Flask, make_member: MakeMember) -> None:
    client = idle_app.test_client()
    member = make_member(name="Nearly Idle")
    sign_in(client, member.email, TEST_PASSWORD)
    with client.session_transaction() as session:
        session["seen"] = time.time() - 40  # under the one minute of the setting
    assert signed_in_as(client) == "Signed in as Nearly Idle"
    with client.session_transaction() as session:
        session["seen"] = time.time() - 90  # over it
    assert signed_in_as(client) is None


def test_activity_keeps_the_session_alive(idle_app: Flask, make_member: MakeMember) -> None:
    client = idle_app.test_client()
    member = make_member(name="Active Member")
    sign_in(client, member.email, TEST_PASSWORD)
    with client.session_transaction() as session:
        session["seen"] = time.time() - 40
    assert signed_in_as(client) == "Signed in as Active Member"  # this request counts as activity
    with client.session_transaction() as session:
        assert time.time() - session["seen"] < 10


def test_absolute_expiry_is_kept_on_the_server(
    client: FlaskClient, make_member: MakeMember, db_session: Session
) -> None:
    member = make_member(name="Long Session")
    sign_in(client, member.email, TEST_PASSWORD)
    assert signed_in_as(client) == "Signed in as Long Session"
    db_session.execute(
        update(WebSession)
        .where(WebSession.member_id == member.id)
        .values(expires_at=now() - timedelta(seconds=1))
    )
    db_session.commit()
    assert signed_in_as(client) is None


# --- where sign-in leads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "lands_on"),
    [
        ("/steward/members", "/steward/members"),
        ("/?page=2", "/?page=2"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("//evil.example/path", "/"),
        ("http:/evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
    ],
)
def test_next_leads_only_to_a_path_on_this_site(
    client: FlaskClient, make_member: MakeMember, target: str, lands_on: str
) -> None:
    member = make_member(steward=True)
    response = post_form(
        client,
        "/signin",
        "/signin",
        {"email": member.email, "password": TEST_PASSWORD, "next": target},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


@pytest.mark.parametrize(
    "target", ["/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/%2F/evil.example"]
)
def test_next_tricks_browsers_read_as_another_site_stay_here(
    client: FlaskClient, make_member: MakeMember, target: str
) -> None:
    """Browsers read a backslash as a slash and drop tabs: such a Location must not leave."""
    member = make_member()
    response = post_form(
        client,
        "/signin",
        "/signin",
        {"email": member.email, "password": TEST_PASSWORD, "next": target},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    as_browser_reads_it = location.replace("\\", "/").replace("\t", "").replace("\n", "")
    parts = urlsplit(as_browser_reads_it)
    assert not parts.scheme and not parts.netloc, location
    assert as_browser_reads_it.startswith("/") and not as_browser_reads_it.startswith("//")


def test_next_from_the_query_is_carried_through_the_form(
    client: FlaskClient, make_member: MakeMember
) -> None:
    member = make_member(steward=True)
    bounced = client.get("/steward/members")
    assert bounced.status_code == 302
    assert bounced.headers["Location"].startswith("/signin?next=")
    signin_page = bounced.headers["Location"]
    html = client.get(signin_page).get_data(as_text=True)
    assert 'value="/steward/members"' in html
    response = post_form(
        client,
        signin_page,
        "/signin",
        {"email": member.email, "password": TEST_PASSWORD, "next": "/steward/members"},
    )
    assert response.headers["Location"] == "/steward/members"
    assert client.get("/steward/members").status_code == 200


# --- sign-in attempts are limited -------------------------------------------------------------


def _attempt(
    client: FlaskClient, token: str, email: str, password: str, address: str
) -> TestResponse:
    return client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_too_many_attempts_from_one_address_get_429(
    tmp_path: Path,
    engine: Engine,
    session_factory: sessionmaker[Session],
    make_member: MakeMember,
) -> None:
    app = build_app(tmp_path, engine, session_factory, signin_rate_limit="3 per minute")
    client = app.test_client()
    member = make_member()
    token = csrf_token(client.get("/signin").get_data(as_text=True))
    for n in range(3):
        response = _attempt(client, token, f"guess{n}@example.org", "wrong password!", "10.1.1.1")
        assert response.status_code == 400, n
    limited = _attempt(client, token, member.email, TEST_PASSWORD, "10.1.1.1")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Traceback" not in limited.get_data(as_text=True)
    assert signed_in_as(client) is None
    # Another address is not affected.
    other = _attempt(client, token, member.email, TEST_PASSWORD, "10.1.1.2")
    assert other.status_code == 302


def test_the_limit_answers_problem_json_to_an_api_client(
    tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    app = build_app(tmp_path, engine, session_factory, signin_rate_limit="1 per minute")
    client = app.test_client()
    token = csrf_token(client.get("/signin").get_data(as_text=True))
    _attempt(client, token, "a@example.org", "wrong password!", "10.2.2.2")
    limited = client.post(
        "/signin",
        data={"email": "a@example.org", "password": "x", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.2.2.2"},
        headers={"Accept": "application/json"},
    )
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert limited.get_json()["status"] == 429
    assert "Retry-After" in limited.headers


def test_the_default_limit_is_25_attempts_per_address(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client.get("/signin").get_data(as_text=True))
    for n in range(25):
        response = _attempt(client, token, f"nobody{n}@example.org", "x", "10.3.3.3")
        assert response.status_code == 400, n
    limited = _attempt(client, token, "nobody-else@example.org", "x", "10.3.3.3")
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers


def test_too_many_attempts_on_one_account_get_429_from_any_address(
    tmp_path: Path,
    engine: Engine,
    session_factory: sessionmaker[Session],
    make_member: MakeMember,
) -> None:
    app = build_app(tmp_path, engine, session_factory, signin_rate_limit="1000 per minute")
    client = app.test_client()
    member = make_member(email="target@example.org")
    token = csrf_token(client.get("/signin").get_data(as_text=True))
    for n in range(25):
        response = _attempt(client, token, member.email, "wrong password!", f"10.9.0.{n + 1}")
        assert response.status_code == 400, n
    limited = _attempt(client, token, "TARGET@example.org ", TEST_PASSWORD, "10.9.1.1")
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    # Another account from the same address is still served.
    other = make_member()
    assert _attempt(client, token, other.email, TEST_PASSWORD, "10.9.1.1").status_code == 302
