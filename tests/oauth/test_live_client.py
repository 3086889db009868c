"""A real OAuth client (authlib's requests OAuth2Session) against the trust on a loopback port.

The member's browser is a requests.Session that signs in through the /signin form and answers
the consent page; the application only ever sees the redirect and speaks to the token,
revocation and introspection endpoints over HTTP. Both engines.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from cltd.rules.bylaws import Bylaws
from tests.oauth.conftest import (
    LOOPBACK_REDIRECT,
    LiveTrust,
    admit,
    allow_over_http,
    register_over,
    sign_in_over_http,
)

TIMEOUT = 10


@pytest.fixture
def user_agent() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_a_public_client_authorizes_reads_refreshes_and_revokes_over_http(
    live_trust: LiveTrust, bylaws: Bylaws, user_agent: requests.Session
) -> None:
    base = live_trust.url
    client_id, _secret = register_over(live_trust, redirect_uris=(LOOPBACK_REDIRECT,))
    admit(live_trust, bylaws, "nadia@example.org", "Nadia")
    sign_in_over_http(live_trust, user_agent, "nadia@example.org")

    with OAuth2Session(
        client_id,
        token_endpoint_auth_method="none",
        scope="profile:read",
        redirect_uri=LOOPBACK_REDIRECT,
        code_challenge_method="S256",
    ) as app:
        verifier = secrets.token_urlsafe(48)
        url, state = app.create_authorization_url(base + "/oauth/authorize", code_verifier=verifier)
        assert "code_challenge_method=S256" in url

        consent = user_agent.get(url, allow_redirects=False, timeout=TIMEOUT)
        assert "Garden Planner" in consent.text and "Allotment Society" in consent.text
        location = allow_over_http(user_agent, url)
        assert location.split("?", 1)[0] == LOOPBACK_REDIRECT
        params = parse_qs(urlsplit(location).query)
        assert params["state"] == [state]

        token = app.fetch_token(
            base + "/oauth/token", code=params["code"][0], code_verifier=verifier
        )
        assert token["token_type"].lower() == "bearer"
        assert token["scope"] == "profile:read"
        assert token["refresh_token"]

        me = app.get(base + "/api/v1/me", timeout=TIMEOUT)
        assert me.status_code == 200, me.text
        assert me.json()["display_name"] == "Nadia"

        old = dict(token)
        new = app.refresh_token(base + "/oauth/token")
        assert new["access_token"] != old["access_token"]
        assert new["refresh_token"] != old["refresh_token"]
        stale = requests.get(
            base + "/api/v1/me",
            headers={"Authorization": f"Bearer {old['access_token']}"},
            timeout=TIMEOUT,
        )
        assert stale.status_code == 401
        assert app.get(base + "/api/v1/me", timeout=TIMEOUT).status_code == 200

        revoked = app.revoke_token(
            base + "/oauth/revoke", token=new["refresh_token"], token_type_hint="refresh_token"
        )
        assert revoked.status_code == 200
        after = app.get(base + "/api/v1/me", timeout=TIMEOUT)
        assert after.status_code == 401
        assert 'error="invalid_token"' in after.headers["WWW-Authenticate"]
        with pytest.raises(OAuthError) as refused:
            app.refresh_token(base + "/oauth/token")
        assert refused.value.error == "invalid_grant"


def test_client_credentials_and_introspection_over_http(live_trust: LiveTrust) -> None:
    base = live_trust.url
    consumer_id, consumer_secret = register_over(
        live_trust,
        client_type="confidential",
        scopes=("catalog:read", "records:read"),
        grant_types=("client_credentials",),
        redirect_uris=(),
        name="Housing Study",
    )
    gateway_id, gateway_secret = register_over(
        live_trust,
        client_type="confidential",
        scopes=("catalog:read",),
        grant_types=("client_credentials",),
        redirect_uris=(),
        may_introspect=True,
        name="Records Gateway",
    )
    with OAuth2Session(
        consumer_id,
        consumer_secret,
        token_endpoint_auth_method="client_secret_basic",
        scope="catalog:read records:read",
    ) as consumer:
        token = consumer.fetch_token(base + "/oauth/token", grant_type="client_credentials")
        assert set(token["scope"].split()) == {"catalog:read", "records:read"}
        assert "refresh_token" not in token  # RFC 6749 §4.4.3

        # The token is accepted, but a consumer acting for itself has no member profile.
        me = consumer.get(base + "/api/v1/me", timeout=TIMEOUT)
        assert me.status_code == 403, me.text
        assert "invalid_token" not in me.headers.get("WWW-Authenticate", "")

        with OAuth2Session(
            gateway_id, gateway_secret, token_endpoint_auth_method="client_secret_basic"
        ) as gateway:
            seen = gateway.introspect_token(base + "/oauth/introspect", token=token["access_token"])
            assert seen.status_code == 200
            body = seen.json()
            assert body["active"] is True
            assert set(body["scope"].split()) == {"catalog:read", "records:read"}
            assert body["client_id"] == consumer_id

        # The consumer is confidential but no resource server: it learns nothing.
        nosy = consumer.introspect_token(base + "/oauth/introspect", token=token["access_token"])
        assert nosy.status_code in (200, 400, 401, 403)
        assert not (nosy.status_code == 200 and nosy.json().get("active") is True)
        assert "scope" not in (nosy.json() if nosy.status_code == 200 else {})

        # Nor does a public client, which cannot authenticate at all.
        public_id, _ = register_over(live_trust)
        anonymous = requests.post(
            base + "/oauth/introspect",
            data={"client_id": public_id, "token": token["access_token"]},
            timeout=TIMEOUT,
        )
        assert anonymous.status_code in (400, 401, 403)
        assert anonymous.json().get("active") is not True
