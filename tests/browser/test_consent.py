"""A member walks the OAuth consent screen in Chromium: sees who asks for what, and allows."""

from __future__ import annotations

import urllib.parse

import requests

from cltd.adapters.clock import now
from cltd.db import make_sessionmaker, session_scope
from cltd.rules.bylaws import Bylaws
from cltd.services import oauth
from tests.browser.conftest import LiveTrust, admit
from tests.conftest import TEST_PASSWORD
from tests.oauth.test_code_flow import REDIRECT, pkce


def _register(trust: LiveTrust) -> str:
    with session_scope(make_sessionmaker(trust.engine)) as session:
        registered = oauth.register_client(
            session,
            name="Neighbourhood Map",
            organisation="Riverside Residents' Association",
            client_type="public",
            redirect_uris=[REDIRECT],
            scopes=["profile:read"],
            grant_types=["authorization_code", "refresh_token"],
            may_introspect=False,
            actor="steward:test",
            at=now(),
        )
        return registered.client.client_id


def test_member_reads_the_consent_screen_and_allows(
    live_trust: LiveTrust, page, bylaws: Bylaws
) -> None:  # type: ignore[no-untyped-def]
    admit(live_trust, bylaws, "ines@example.org", "Inès")
    client_id = _register(live_trust)
    verifier, challenge = pkce()
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "profile:read",
            "state": "s-123",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    # The app's callback lives outside this machine's trust; answer it in the browser.
    page.route(REDIRECT + "**", lambda route: route.fulfill(body="callback reached"))

    page.goto(f"{live_trust.url}/oauth/authorize?{query}")
    page.get_by_test_id("field-email").fill("ines@example.org")
    page.get_by_test_id("field-password").fill(TEST_PASSWORD)
    page.get_by_test_id("signin-submit").click()

    consent = page.get_by_test_id("consent")
    assert "Neighbourhood Map" in consent.inner_text()
    assert "Riverside Residents' Association" in consent.inner_text()
    assert "profile:read" in page.get_by_test_id("consent-scopes").inner_text()
    page.get_by_test_id("consent-allow").click()
    page.wait_for_url(REDIRECT + "**")

    params = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert params["state"] == ["s-123"]
    token = requests.post(
        f"{live_trust.url}/oauth/token",
        timeout=10,
        data={
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": REDIRECT,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200
    me = requests.get(
        f"{live_trust.url}/api/v1/me",
        timeout=10,
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert me.json()["display_name"] == "Inès"


def test_member_who_denies_sends_the_app_away_empty_handed(
    live_trust: LiveTrust, page, bylaws: Bylaws
) -> None:  # type: ignore[no-untyped-def]
    admit(live_trust, bylaws, "tom@example.org", "Tom")
    client_id = _register(live_trust)
    _verifier, challenge = pkce()
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "profile:read",
            "state": "s-9",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page.route(REDIRECT + "**", lambda route: route.fulfill(body="callback reached"))
    page.goto(f"{live_trust.url}/signin")
    page.get_by_test_id("field-email").fill("tom@example.org")
    page.get_by_test_id("field-password").fill(TEST_PASSWORD)
    page.get_by_test_id("signin-submit").click()
    page.goto(f"{live_trust.url}/oauth/authorize?{query}")
    page.get_by_test_id("consent-deny").click()
    page.wait_for_url(REDIRECT + "**")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert params["error"] == ["access_denied"] and "code" not in params
