"""Errors as people and programs see them: RFC 9457 problem+json, a readable page, no traceback."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from cltd import __version__
from cltd.adapters.clock import now
from cltd.db import make_engine
from cltd.services import members as member_service
from cltd.web.state import db, state
from tests.conftest import TEST_PASSWORD, make_settings
from tests.web.helpers import sign_in
from tests.web.support import MakeMember, member_count

PROBLEM = "application/problem+json"
NOBODY_LISTENS = "postgresql://postgres@127.0.0.1:1/cltd"
SECRET = "internal detail that must not leak 7f3a"


def _assert_problem(response: TestResponse, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    return body


def _assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert 'File "' not in text
    assert SECRET not in text


# --- the API answers problem+json ------------------------------------------------------------


def test_unknown_api_path_is_404_problem_json(client: FlaskClient) -> None:
    body = _assert_problem(client.get("/api/v1/anything"), 404)
    assert body["type"] == "about:blank"


def test_unknown_api_path_is_problem_json_even_when_html_is_asked_for(
    client: FlaskClient,
) -> None:
    response = client.get("/api/v1/anything", headers={"Accept": "text/html"})
    _assert_problem(response, 404)


def test_me_for_a_visitor_is_401_problem_json(client: FlaskClient) -> None:
    body = _assert_problem(client.get("/api/v1/me"), 401)
    assert "sign in" in str(body["title"]).lower()


def test_me_for_a_member(client: FlaskClient, make_member: MakeMember) -> None:
    member = make_member("community", name="Api Member", locale="es")
    sign_in(client, member.email, TEST_PASSWORD)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "id": member.id,
        "display_name": "Api Member",
        "member_class": "community",
        "roles": ["member"],
        "locale": "es",
    }


def test_me_for_a_steward_lists_the_role(client: FlaskClient, make_member: MakeMember) -> None:
    member = make_member(steward=True)
    sign_in(client, member.email, TEST_PASSWORD)
    assert client.get("/api/v1/me").get_json()["roles"] == ["member", "steward"]


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.get("/signout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert 'data-testid="problem"' in response.get_data(as_text=True)
    api = client.post("/api/v1/me", headers={"Accept": "application/json"})
    assert api.status_code in (400, 405)  # CSRF may refuse the POST before routing does
    assert api.mimetype == PROBLEM


def test_too_large_a_request_is_413(client: FlaskClient) -> None:
    response = client.post(
        "/signin",
        data={"email": "x" * (2 * 1024 * 1024)},
        headers={"Accept": "application/json"},
    )
    _assert_problem(response, 413)


# --- people get a page ------------------------------------------------------------------------


def test_unknown_page_is_an_html_problem_page(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'data-testid="problem"' in html
    assert "Nothing here" in html and "Error 404" in html
    assert 'href="/"' in html


def test_unknown_page_is_problem_json_for_a_json_client(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    _assert_problem(response, 404)


# --- health ------------------------------------------------------------------------------------


def test_healthz_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "version": __version__}


@pytest.fixture
def broken_app(tmp_path: Path) -> Iterator[Flask]:
    """An app whose database (PostgreSQL on a port nobody listens on) does not answer."""
    from cltd.web import create_app

    settings = make_settings(tmp_path, NOBODY_LISTENS)
    engine = make_engine(NOBODY_LISTENS)
    app = create_app(settings, engine=engine)
    app.config.update(TESTING=True)
    yield app
    engine.dispose()


def test_healthz_is_503_when_the_database_does_not_answer(broken_app: Flask) -> None:
    client = broken_app.test_client()
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 5
    body = _assert_problem(response, 503)
    assert body["code"] == "health.database_unavailable"
    _assert_no_traceback(response.get_data(as_text=True))
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_a_page_is_503_not_500_when_the_database_does_not_answer(broken_app: Flask) -> None:
    """The front page reads the database: an outage is "unavailable", not "our bug".

    Fails today: an OperationalError raised inside a view reaches the catch-all handler and
    is answered 500 (only failures at commit time become 503).
    """
    client = broken_app.test_client()
    response = client.get("/")
    html = response.get_data(as_text=True)
    _assert_no_traceback(html)
    assert "postgres" not in html.lower()
    assert 'data-testid="problem"' in html
    assert response.status_code == 503, "a database outage is answered 500"


def test_api_is_503_not_500_when_the_database_does_not_answer(broken_app: Flask) -> None:
    """A signed-in cookie makes every request read the database (the session check)."""
    client = broken_app.test_client()
    with client.session_transaction() as session:
        session["sid"] = "some-token"
        session["seen"] = time.time()
    response = client.get("/api/v1/me")
    _assert_no_traceback(response.get_data(as_text=True))
    assert response.mimetype == PROBLEM
    assert response.status_code == 503, "a database outage is answered 500"


# --- an unexpected exception ------------------------------------------------------------------


@pytest.fixture
def exploding_app(app: Flask) -> Flask:
    """The test app with two throwaway routes that write a member, then fail."""

    def explode() -> str:
        member_service.add_member(
            db(),
            state().bylaws,
            email="half-done@example.org",
            display_name="Half Done",
            member_class=state().bylaws.class_keys()[0],
            password=TEST_PASSWORD,
            actor="test",
            at=now(),
        )
        db().flush()
        raise RuntimeError(SECRET)

    app.add_url_rule("/boom", "boom", explode, methods=["GET"])
    app.add_url_rule("/api/v1/boom", "api_boom", explode, methods=["GET"])
    return app


def test_unexpected_exception_is_500_problem_json_without_traceback(
    exploding_app: Flask, db_session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    before = member_count(db_session)
    with caplog.at_level(logging.ERROR, logger="cltd.web"):
        response = exploding_app.test_client().get("/api/v1/boom")
    body = _assert_problem(response, 500)
    _assert_no_traceback(response.get_data(as_text=True))
    assert "detail" not in body
    assert member_count(db_session) == before  # the half-done write was rolled back
    assert any("unexpected error" in r.getMessage() for r in caplog.records)  # but logged


def test_unexpected_exception_is_a_500_page_for_people(
    exploding_app: Flask, db_session: Session
) -> None:
    before = member_count(db_session)
    response = exploding_app.test_client().get("/boom", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'data-testid="problem"' in html
    assert "Something went wrong on our side" in html
    _assert_no_traceback(html)
    assert member_count(db_session) == before


# --- security headers -------------------------------------------------------------------------


def _assert_security_headers(response: TestResponse) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", csp
    assert "default-src" in directives
    assert "'unsafe-inline'" not in csp
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/signin", 200),
        ("/healthz", 200),
        ("/api/v1/me", 401),
        ("/api/v1/anything", 404),
        ("/no-such-page", 404),
        ("/steward/members", 302),
    ],
)
def test_security_headers_on_every_kind_of_answer(
    client: FlaskClient, path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    _assert_security_headers(response)


def test_security_headers_on_errors(exploding_app: Flask, broken_app: Flask) -> None:
    _assert_security_headers(exploding_app.test_client().get("/boom"))
    _assert_security_headers(broken_app.test_client().get("/healthz"))
    _assert_security_headers(exploding_app.test_client().post("/language", data={}))
