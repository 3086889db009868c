"""Which language a page is in: the member's saved one, then the switcher, then the browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from cltd.models import AuditEntry, Member
from cltd.resources import translations_dir
from tests.conftest import TEST_PASSWORD
from tests.web.helpers import csrf_token, post_form, sign_in
from tests.web.support import MakeMember, build_app, html_lang, signed_in_as


def _translated(locale: str, message: str) -> str | None:
    """MESSAGE in LOCALE as the shipped catalogue has it, or None if it has no translation yet."""
    folder = translations_dir() / locale / "LC_MESSAGES"
    if not (folder / "messages.mo").is_file() or not (folder / "messages.po").is_file():
        return None
    with (folder / "messages.po").open("rb") as handle:
        found = read_po(handle, locale=locale).get(message)
    if found is None or not found.string or found.fuzzy:
        return None
    return str(found.string)


def _lang_of(client: FlaskClient, path: str = "/", accept: str | None = None) -> str:
    headers = {"Accept-Language": accept} if accept is not None else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return html_lang(response.get_data(as_text=True))


def _switch(
    client: FlaskClient, locale: str, next_path: str = "/", page: str = "/"
) -> TestResponse:
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post("/language", data={"locale": locale, "next": next_path, "csrf_token": token})


# --- the browser's Accept-Language ------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "lang"),
    [
        ("es", "es"),
        ("fr", "fr"),
        ("en", "en"),
        ("es-MX,es;q=0.9", "es"),
        ("fr-CA", "fr"),
        ("de;q=1.0, fr;q=0.5, es;q=0.8", "es"),
        ("de, zh", "en"),
        ("*", "en"),
        ("", "en"),
        ("!!;q=abc,,", "en"),
    ],
)
def test_browser_language_picks_the_page_language(
    client: FlaskClient, accept: str, lang: str
) -> None:
    assert _lang_of(client, accept=accept) == lang


def test_no_accept_language_gives_the_trusts_default(client: FlaskClient) -> None:
    assert _lang_of(client) == "en"


def test_the_trusts_default_language_is_a_setting(
    tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    app = build_app(tmp_path, engine, session_factory, default_locale="fr")
    client = app.test_client()
    assert _lang_of(client) == "fr"
    assert _lang_of(client, accept="de, zh") == "fr"
    assert _lang_of(client, accept="es") == "es"


def test_spanish_page_is_in_spanish(client: FlaskClient) -> None:
    response = client.get("/signin", headers={"Accept-Language": "es"})
    html = response.get_data(as_text=True)
    assert html_lang(html) == "es"
    expected = _translated("es", "Sign in")
    if expected is not None:  # the catalogue is being written alongside these tests
        assert str(escape(expected)) in html
    assert 'lang="es" selected' in html  # the switcher shows the language in use


def test_french_page_is_in_french(client: FlaskClient) -> None:
    html = client.get("/signin", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert html_lang(html) == "fr"
    expected = _translated("fr", "Sign in")
    if expected is not None:
        assert str(escape(expected)) in html


def test_problem_pages_follow_the_language_too(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"Accept-Language": "es"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert html_lang(html) == "es"
    expected = _translated("es", "Nothing here")
    if expected is not None:
        assert str(escape(expected)) in html
    api = client.get("/api/v1/anything", headers={"Accept-Language": "fr"})
    expected = _translated("fr", "Nothing here")
    if expected is not None:
        assert api.get_json()["title"] == expected


# --- a member's saved language ----------------------------------------------------------------


def test_saved_language_beats_the_browser(client: FlaskClient, make_member: MakeMember) -> None:
    member = make_member(locale="fr", name="Françoise")
    sign_in(client, member.email, TEST_PASSWORD)
    assert _lang_of(client, accept="es") == "fr"
    assert _lang_of(client, accept="en") == "fr"


def test_member_without_a_saved_language_gets_the_browsers(
    client: FlaskClient, make_member: MakeMember
) -> None:
    member = make_member()
    sign_in(client, member.email, TEST_PASSWORD)
    assert _lang_of(client, accept="es") == "es"


def test_saved_language_beats_a_choice_made_before_signing_in(
    client: FlaskClient, make_member: MakeMember
) -> None:
    member = make_member(locale="fr")
    _switch(client, "es")
    assert _lang_of(client) == "es"
    sign_in(client, member.email, TEST_PASSWORD)
    assert _lang_of(client) == "fr"


# --- the switcher -----------------------------------------------------------------------------


def test_switcher_changes_the_language_of_a_visitor(client: FlaskClient) -> None:
    response = _switch(client, "fr", next_path="/signin")
    assert response.status_code == 302
    assert response.headers["Location"] == "/signin"
    assert _lang_of(client, accept="es") == "fr"  # the explicit choice beats the browser
    assert _lang_of(client, "/signin", accept="es") == "fr"


def test_visitors_choice_survives_signing_in_and_out(
    client: FlaskClient, make_member: MakeMember
) -> None:
    member = make_member()
    _switch(client, "es")
    sign_in(client, member.email, TEST_PASSWORD)
    assert _lang_of(client, accept="fr") == "es"
    post_form(client, "/", "/signout", {})
    assert signed_in_as(client) is None


def test_switcher_saves_the_language_of_a_member(
    app: Flask, client: FlaskClient, make_member: MakeMember, db_session: Session
) -> None:
    member = make_member(name="Saving Member")
    sign_in(client, member.email, TEST_PASSWORD)
    assert _switch(client, "es").status_code == 302
    db_session.expire_all()
    saved = db_session.get(Member, member.id)
    assert saved is not None and saved.locale == "es"
    entry = db_session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "member.locale_changed",
            AuditEntry.subject == f"member:{member.id}",
        )
    )
    assert entry is not None and '"es"' in entry.details

    elsewhere = app.test_client()  # another browser, which prefers French
    sign_in(elsewhere, member.email, TEST_PASSWORD)
    assert _lang_of(elsewhere, accept="fr") == "es"
    assert elsewhere.get("/api/v1/me").get_json()["locale"] == "es"


def test_switching_to_the_same_language_writes_no_audit_entry(
    client: FlaskClient, make_member: MakeMember, db_session: Session
) -> None:
    member = make_member(locale="fr")
    sign_in(client, member.email, TEST_PASSWORD)
    _switch(client, "fr")
    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "member.locale_changed")
    ).all()
    assert entries == []


@pytest.mark.parametrize("locale", ["de", "", "en-GB", "../../etc"])
def test_switcher_refuses_a_language_the_trust_does_not_have(
    client: FlaskClient, make_member: MakeMember, db_session: Session, locale: str
) -> None:
    member = make_member(locale="fr")
    sign_in(client, member.email, TEST_PASSWORD)
    response = _switch(client, locale)
    assert response.status_code in (302, 400)
    assert _lang_of(client) == "fr"
    db_session.expire_all()
    assert db_session.get(Member, member.id).locale == "fr"  # type: ignore[union-attr]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "javascript:x"])
def test_switcher_returns_only_to_this_site(client: FlaskClient, target: str) -> None:
    response = _switch(client, "es", next_path=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_switcher_returns_to_the_page_it_was_used_on(client: FlaskClient) -> None:
    html = client.get("/signin?next=/steward/members").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/signin?next=/steward/members"' in html
    response = _switch(client, "fr", next_path="/signin?next=/steward/members", page="/signin")
    assert response.headers["Location"] == "/signin?next=/steward/members"
