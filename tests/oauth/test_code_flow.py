"""The authorization code flow with PKCE, end to end through the Flask app (both engines)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.services import oauth
from tests.conftest import TEST_PASSWORD
from tests.web.helpers import csrf_token, sign_in

REDIRECT = "http://127.0.0.1:9999/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def register_app(db_session: Session, client_type: str = "public") -> oauth.Registered:
    registered = oauth.register_client(
        db_session,
        name="Garden Planner",
        organisation="Allotment Society",
        client_type=client_type,
        redirect_uris=[REDIRECT],
        scopes=["profile:read", "consent:read"],
        grant_types=["authorization_code", "refresh_token"],
        may_introspect=False,
        actor="steward:test",
        at=now(),
    )
    db_session.commit()
    return registered


def authorize(client, client_id: str, challenge: str, *, approve: bool = True) -> str:  # type: ignore[no-untyped-def]
    query = (
        f"response_type=code&client_id={client_id}&redirect_uri={REDIRECT}"
        f"&scope=profile:read&state=xyz&code_challenge={challenge}&code_challenge_method=S256"
    )
    page = client.get("/oauth/authorize?" + query)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Garden Planner" in html and "Allotment Society" in html
    decision = {"approve": "Allow"} if approve else {"deny": "Deny"}
    answer = client.post(
        "/oauth/authorize?" + query, data={**decision, "csrf_token": csrf_token(html)}
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def test_member_authorizes_an_app_which_reads_refreshes_and_is_revoked(
    client, db_session, make_member
) -> None:  # type: ignore[no-untyped-def]
    member = make_member(name="Nadia")
    app_client = register_app(db_session).client
    sign_in(client, member.email, TEST_PASSWORD)
    verifier, challenge = pkce()
    location = authorize(client, app_client.client_id, challenge)
    params = parse_qs(urlsplit(location).query)
    assert location.startswith(REDIRECT) and params["state"] == ["xyz"]

    api = client.application.test_client()  # no cookie: only the token speaks
    tokens = api.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": REDIRECT,
            "client_id": app_client.client_id,
            "code_verifier": verifier,
        },
    )
    assert tokens.status_code == 200, tokens.get_json()
    body = tokens.get_json()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.get_json()["display_name"] == "Nadia"

    refreshed = api.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "client_id": app_client.client_id,
        },
    )
    assert refreshed.status_code == 200, refreshed.get_json()
    new = refreshed.get_json()
    assert new["refresh_token"] != body["refresh_token"]
    old_access = api.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert old_access.status_code == 401

    revoked = api.post(
        "/oauth/revoke", data={"token": new["refresh_token"], "client_id": app_client.client_id}
    )
    assert revoked.status_code == 200
    after = api.get("/api/v1/me", headers={"Authorization": f"Bearer {new['access_token']}"})
    assert after.status_code == 401
    assert after.headers["Content-Type"] == "application/problem+json"
    assert 'error="invalid_token"' in after.headers["WWW-Authenticate"]


def test_denying_sends_access_denied_back_to_the_app(client, db_session, make_member) -> None:  # type: ignore[no-untyped-def]
    member = make_member()
    app_client = register_app(db_session).client
    sign_in(client, member.email, TEST_PASSWORD)
    _verifier, challenge = pkce()
    location = authorize(client, app_client.client_id, challenge, approve=False)
    assert parse_qs(urlsplit(location).query)["error"] == ["access_denied"]
