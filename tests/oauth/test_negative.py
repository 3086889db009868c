"""What the authorization server must refuse (reliability R1–R5), one case per test, both engines.

Everything goes through the Flask test client against an app on its own database (see `env` in
conftest.py); rows are changed directly only to move a code or a token past its expiry.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from cltd.adapters.clock import now
from cltd.models import Member, OAuthClient, OAuthCode, OAuthToken
from cltd.rules.roles import CONSUMER_SCOPES
from cltd.services import oauth
from cltd.services.errors import InvalidInput
from tests.oauth.conftest import (
    LOOPBACK_REDIRECT,
    REDIRECT,
    REGISTERED,
    RFC6749_AUTHORIZE_ERRORS,
    RFC6749_TOKEN_ERRORS,
    App,
    Env,
    pkce,
    register,
    s256,
)

# --- R1: redirect URIs ---------------------------------------------------------------------------

# Hand-made near misses of the two registered addresses. Each must be refused with an error page:
# exact string comparison, no normalisation (ASVS 10.4.1, RFC 9700 §4.1).
MUTATIONS = [
    pytest.param(REDIRECT + "/", id="trailing-slash"),
    pytest.param("https://app.example.org/Callback", id="path-case"),
    pytest.param("https://app.example.org/CALLBACK", id="path-upper"),
    pytest.param("https://APP.example.org/callback", id="host-case"),
    pytest.param("HTTPS://app.example.org/callback", id="scheme-case"),
    pytest.param("https://app.example.org%2Fcallback", id="encoded-slash-in-host"),
    pytest.param("https://app.example.org/callback%2F", id="encoded-trailing-slash"),
    pytest.param("https://app.example.org/%63allback", id="encoded-letter"),
    pytest.param("https://app.example.org/callback%2F..%2Fevil", id="encoded-dotdot"),
    pytest.param("https://evil.example@app.example.org/callback", id="userinfo"),
    pytest.param("https://app.example.org@evil.example/callback", id="host-as-userinfo"),
    pytest.param("https://app.example.org%25@evil.example/callback", id="percent25-at"),
    pytest.param("https://app.example.org%40evil.example/callback", id="encoded-at"),
    pytest.param("https://app.example.org\\@evil.example/callback", id="backslash-at"),
    pytest.param("https://app.example.org\\.evil.example/callback", id="backslash-host"),
    pytest.param(REDIRECT + "?x=1", id="extra-query"),
    pytest.param(REDIRECT + "?next=https://evil.example/", id="open-redirect-query"),
    pytest.param(REDIRECT + "?", id="empty-query"),
    pytest.param(REDIRECT + "#frag", id="fragment"),
    pytest.param(REDIRECT + "#", id="empty-fragment"),
    pytest.param("http://app.example.org/callback", id="https-to-http"),
    pytest.param("https://app.example.org:443/callback", id="default-port"),
    pytest.param("https://app.example.org:8443/callback", id="other-port"),
    pytest.param("https://app.example.org./callback", id="trailing-dot-host"),
    pytest.param("https://\u0430pp.example.org/callback", id="idn-lookalike"),
    pytest.param("https://xn--pp-6kc.example.org/callback", id="idn-punycode"),
    pytest.param("https://app.example.org/callback/../callback", id="dotdot-back"),
    pytest.param("https://app.example.org/evil/../callback", id="dotdot-through"),
    pytest.param("https://app.example.org/./callback", id="dot-segment"),
    pytest.param("https://app.example.org//callback", id="double-slash"),
    pytest.param("https://app.example.org/callback;evil", id="path-parameter"),
    pytest.param("https://app.example.org/callback%00", id="nul"),
    pytest.param(REDIRECT + "\r\nLocation: https://evil.example/", id="crlf"),
    pytest.param(" " + REDIRECT, id="leading-space"),
    pytest.param(REDIRECT + " ", id="trailing-space"),
    pytest.param("https://app.example.org.evil.example/callback", id="suffix-host"),
    pytest.param("https://evil-app.example.org/callback", id="sibling-host"),
    pytest.param("https://evil.example/callback", id="other-host"),
    pytest.param("//app.example.org/callback", id="scheme-relative"),
    pytest.param("app.example.org/callback", id="no-scheme"),
    pytest.param("javascript://app.example.org/callback%0Aalert(1)", id="javascript"),
    pytest.param("", id="empty"),
    # The loopback address of a native app: exact too, port included (R1).
    pytest.param("http://localhost:8765/cb", id="loopback-localhost"),
    pytest.param("http://127.0.0.1:8766/cb", id="loopback-other-port"),
    pytest.param("http://127.0.0.1/cb", id="loopback-no-port"),
    pytest.param("http://127.0.0.2:8765/cb", id="loopback-other-ip"),
    pytest.param("http://[::1]:8765/cb", id="loopback-ipv6"),
    pytest.param("http://2130706433:8765/cb", id="loopback-decimal-ip"),
    pytest.param("https://127.0.0.1:8765/cb", id="loopback-https"),
    pytest.param(LOOPBACK_REDIRECT + "/", id="loopback-trailing-slash"),
    pytest.param("http://127.0.0.1:8765/CB", id="loopback-path-case"),
]


def assert_stays_home(answer: TestResponse) -> None:
    """No 307 (it would replay the member's POST), and no Location outside the registered set."""
    assert answer.status_code != 307
    location = answer.headers.get("Location")
    if location is None:
        return
    parts = urlsplit(location)
    if not parts.scheme and not parts.netloc:
        assert location.startswith("/") and not location.startswith("//"), location
        return
    assert location.split("?", 1)[0] in REGISTERED, location
    assert (parts.scheme, parts.netloc) in {
        (urlsplit(u).scheme, urlsplit(u).netloc) for u in REGISTERED
    }


def _count_codes(env: Env, client_id: str) -> int:
    with env.session() as session:
        return session.scalar(
            select(func.count())
            .select_from(OAuthCode)
            .join(OAuthClient, OAuthCode.client_pk == OAuthClient.id)
            .where(OAuthClient.client_id == client_id)
        )


def assert_error_page(answer: TestResponse) -> None:
    assert_stays_home(answer)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.headers.get("Location"))
    assert "Location" not in answer.headers


@pytest.mark.parametrize("redirect_uri", MUTATIONS)
def test_an_unregistered_redirect_uri_gets_an_error_page(env: Env, redirect_uri: str) -> None:
    app = env.register()
    _verifier, challenge = pkce()
    query = env.authorize_query(app.client_id, challenge=challenge, redirect_uri=redirect_uri)
    assert_error_page(env.consent_page(query))
    assert_error_page(env.decide(query, approve=True))
    assert_error_page(env.decide(query, approve=False))
    assert _count_codes(env, app.client_id) == 0


@pytest.mark.parametrize("redirect_uri", MUTATIONS)
def test_a_mutated_redirect_uri_sent_unencoded_never_leaves_the_registered_set(
    env: Env, redirect_uri: str
) -> None:
    """The same near misses pasted into the query as they are, so the server decodes them."""
    app = env.register()
    _verifier, challenge = pkce()
    query = (
        f"response_type=code&client_id={app.client_id}&redirect_uri={redirect_uri}"
        f"&scope=profile:read&state=xyz&code_challenge={challenge}&code_challenge_method=S256"
    )
    # Only what cannot travel raw in a request line is escaped (a browser would do the same).
    for raw, escaped in (("\r", "%0D"), ("\n", "%0A"), (" ", "%20"), ("#", "%23")):
        query = query.replace(raw, escaped)
    for answer in (env.consent_page(query), env.decide(query), env.decide(query, approve=False)):
        assert_stays_home(answer)


FAULTS = {
    "no-challenge": {"challenge": None, "method": None},
    "plain-challenge": {"method": "plain"},
    "implicit-grant": {"response_type": "token"},
    "unknown-scope": {"scope": "admin:everything"},
    "unknown-response-type": {"state": None, "response_type": "id_token"},
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        REDIRECT + "/",
        "https://app.example.org%25@evil.example/callback",
    ],
)
def test_an_error_is_never_sent_to_an_unregistered_redirect_uri(
    env: Env, redirect_uri: str, fault: str
) -> None:
    """Validate the address before building any error redirect (GHSA-r95x-qfjj-fjj2)."""
    app = env.register()
    _verifier, challenge = pkce()
    options: dict[str, str | None] = {"challenge": challenge, "redirect_uri": redirect_uri}
    options.update(FAULTS[fault])
    query = env.authorize_query(app.client_id, **options)  # type: ignore[arg-type]
    assert_error_page(env.consent_page(query))
    assert_error_page(env.decide(query))


def test_an_unknown_client_gets_an_error_page_even_with_a_registered_address(env: Env) -> None:
    _verifier, challenge = pkce()
    query = env.authorize_query("no-such-client", challenge=challenge)
    assert_error_page(env.consent_page(query))
    assert_error_page(env.decide(query))


def test_a_missing_or_repeated_redirect_uri_gets_an_error_page(env: Env) -> None:
    app = env.register()
    _verifier, challenge = pkce()
    missing = env.authorize_query(app.client_id, challenge=challenge, redirect_uri=None)
    assert_error_page(env.consent_page(missing))
    assert_error_page(env.decide(missing))
    for second in (REDIRECT, "https://evil.example/callback"):
        repeated = (
            env.authorize_query(app.client_id, challenge=challenge)
            + "&redirect_uri="
            + quote(second, safe="")
        )
        assert_error_page(env.consent_page(repeated))
        assert_error_page(env.decide(repeated))


@pytest.mark.parametrize("redirect_uri", REGISTERED)
def test_each_registered_address_gets_its_code_and_its_errors_by_302(
    env: Env, redirect_uri: str
) -> None:
    """The control: the exact registered strings work, so the refusals above are not vacuous."""
    app = env.register()
    code, verifier = env.code_for(app, redirect_uri=redirect_uri)
    assert env.redeem(app, code, verifier, redirect_uri=redirect_uri).status_code == 200
    query = env.authorize_query(app.client_id, redirect_uri=redirect_uri, method=None)
    for answer in (env.consent_page(query), env.decide(query)):
        assert answer.status_code == 302
        location = answer.headers["Location"]
        assert location.split("?", 1)[0] == redirect_uri
        assert parse_qs(urlsplit(location).query)["error"] == ["invalid_request"]


def test_a_code_is_bound_to_its_redirect_uri_and_its_client(env: Env) -> None:
    app, other = env.register(), env.register(name="Other App")
    code, verifier = env.code_for(app)
    wrong_uri = env.redeem(app, code, verifier, redirect_uri=LOOPBACK_REDIRECT)
    assert wrong_uri.status_code == 400 and wrong_uri.get_json()["error"] == "invalid_grant"
    code, verifier = env.code_for(app)
    stolen = env.redeem(other, code, verifier)
    assert stolen.status_code == 400 and stolen.get_json()["error"] == "invalid_grant"
    # Presenting a code at all spends it: the rightful app cannot use it afterwards either.
    late = env.redeem(app, code, verifier)
    assert late.status_code == 400 and late.get_json()["error"] == "invalid_grant"


def test_consent_without_the_csrf_token_issues_no_code(env: Env) -> None:
    app = env.register()
    _verifier, challenge = pkce()
    query = env.authorize_query(app.client_id, challenge=challenge)
    answer = env.browser.post("/oauth/authorize?" + query, data={"approve": "Allow"})
    assert_error_page(answer)


# Characters RFC 6749 forbids in error_description (outside %x20-21 / %x23-5B / %x5D-7E): an
# error message must never echo them back, nor crash on them.
HOSTILE = {
    "backslash": "\\",
    "double-quote": '"',
    "non-ascii": "\u0430",
    "crlf": "\r\n",
    "tab": "\t",
}


@pytest.mark.parametrize("text", sorted(HOSTILE))
@pytest.mark.parametrize(
    "parameter",
    ["redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"],
)
def test_hostile_text_in_an_authorization_request_is_refused_not_a_crash(
    env: Env, parameter: str, text: str
) -> None:
    app = env.register()
    _verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "profile:read",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params[parameter] += HOSTILE[text]
    query = urlencode(params)
    for answer in (env.consent_page(query), env.decide(query)):
        assert_stays_home(answer)
        assert answer.status_code < 500, answer.get_data(as_text=True)[:300]


@pytest.mark.parametrize("text", sorted(HOSTILE))
@pytest.mark.parametrize(
    "parameter",
    ["grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope", "client_id"],
)
def test_hostile_text_at_the_token_endpoint_is_refused_not_a_crash(
    env: Env, parameter: str, text: str
) -> None:
    app = env.register()
    code, verifier = env.code_for(app)
    data = {
        **app.credentials(),
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    if parameter in ("refresh_token", "scope"):
        tokens = env.redeem(app, code, verifier).get_json()
        data = {**app.credentials(), "grant_type": "refresh_token"}
        data["refresh_token"] = tokens["refresh_token"]
    data[parameter] = data.get(parameter, "profile:read") + HOSTILE[text]
    answer = env.api.post("/oauth/token", data=data)
    if parameter == "scope" and not HOSTILE[text].strip():
        # Whitespace separates scopes (RFC 6749 §3.3): "profile:read\r\n" is just profile:read.
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        return
    assert answer.status_code in (400, 401), answer.get_data(as_text=True)[:300]
    assert answer.get_json()["error"] in RFC6749_TOKEN_ERRORS


# --- R2: PKCE, S256 only -------------------------------------------------------------------------

CHALLENGES = ("none", "plain", "plain-by-default", "S256")
VERIFIERS = ("none", "wrong", "42-chars", "right")
# Only S256 reaches the token endpoint; every other challenge is refused at the authorization
# endpoint with invalid_request, sent back to the (registered) address, and no code is stored.
TOKEN_OUTCOME = {
    "none": (400, "invalid_request"),
    "wrong": (400, "invalid_grant"),
    "42-chars": (400, "invalid_request"),
    "right": (200, None),
}


@pytest.mark.parametrize("verifier_kind", VERIFIERS)
@pytest.mark.parametrize("challenge_kind", CHALLENGES)
def test_pkce_matrix(env: Env, challenge_kind: str, verifier_kind: str) -> None:
    app = env.register()
    # A 42-character verifier is one character short of RFC 7636's minimum: its challenge is
    # made from it, so only the length rule can refuse it.
    right = secrets.token_urlsafe(32)[:42] if verifier_kind == "42-chars" else pkce()[0]
    challenge, method = {
        "none": (None, None),
        "plain": (right, "plain"),
        "plain-by-default": (right, None),
        "S256": (s256(right), "S256"),
    }[challenge_kind]
    query = env.authorize_query(app.client_id, challenge=challenge, method=method)

    if challenge_kind != "S256":
        for answer in (env.consent_page(query), env.decide(query)):
            assert answer.status_code == 302, answer.get_data(as_text=True)
            location = answer.headers["Location"]
            assert location.split("?", 1)[0] == REDIRECT
            params = parse_qs(urlsplit(location).query)
            assert params["error"] == ["invalid_request"]
            assert params["state"] == ["xyz"]
            assert "code" not in params
        assert _count_codes(env, app.client_id) == 0
        return

    assert env.consent_page(query).status_code == 200
    answer = env.decide(query)
    assert answer.status_code == 302
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    sent = {
        "none": None,
        "wrong": pkce()[0],
        "42-chars": right,
        "right": right,
    }[verifier_kind]
    result = env.redeem(app, code, sent)
    status, error = TOKEN_OUTCOME[verifier_kind]
    assert result.status_code == status, result.get_json()
    if error is None:
        assert result.get_json()["token_type"].lower() == "bearer"
        return
    assert result.get_json()["error"] == error
    # The failed attempt spent the code: the right verifier does not bring it back.
    retry = env.redeem(app, code, right)
    assert retry.status_code == 400 and retry.get_json()["error"] == "invalid_grant"


def _plant_code(env: Env, app: App, *, challenge: str, method: str) -> str:
    """A code row as an older release (or a bug elsewhere) might have stored it."""
    code = secrets.token_urlsafe(36)
    with env.session() as session:
        client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == app.client_id))
        member = session.get(Member, env.member_id)
        oauth.save_code(
            session,
            client=client,
            member=member,
            code=code,
            redirect_uri=REDIRECT,
            scope="profile:read",
            challenge=challenge,
            method=method,
            at=now(),
        )
    return code


def test_a_verifier_without_a_stored_challenge_is_refused(env: Env) -> None:
    """RFC 9700 §4.8 (PKCE downgrade): no challenge stored, so no verifier can redeem it."""
    app = env.register()
    for verifier in (pkce()[0], None):
        code = _plant_code(env, app, challenge="", method="")
        answer = env.redeem(app, code, verifier)
        assert answer.status_code == 400
        assert answer.get_json()["error"] == "invalid_request"


def test_a_stored_plain_challenge_is_never_honoured(env: Env) -> None:
    """`plain` is refused end to end (ASVS 10.4.6), not only when the code is requested."""
    app = env.register()
    verifier = pkce()[0]
    code = _plant_code(env, app, challenge=verifier, method="plain")
    answer = env.redeem(app, code, verifier)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["error"] in ("invalid_grant", "invalid_request")


# --- R3: codes are single-use and short-lived ----------------------------------------------------


def test_a_replayed_code_fails_and_revokes_what_it_produced(env: Env) -> None:
    app, gateway = env.register(), env.resource_server()
    code, verifier = env.code_for(app)
    first = env.redeem(app, code, verifier)
    assert first.status_code == 200
    tokens = first.get_json()
    assert env.me(tokens["access_token"]).status_code == 200

    second = env.redeem(app, code, verifier)
    assert second.status_code == 400
    assert second.get_json()["error"] == "invalid_grant"

    refused = env.me(tokens["access_token"])
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert env.introspect(gateway, tokens["access_token"]) == {"active": False}
    refresh = env.refresh(app, tokens["refresh_token"])
    assert refresh.status_code == 400 and refresh.get_json()["error"] == "invalid_grant"


def test_a_replayed_code_also_revokes_tokens_rotated_from_it(env: Env) -> None:
    app = env.register()
    code, verifier = env.code_for(app)
    first = env.redeem(app, code, verifier).get_json()
    rotated = env.refresh(app, first["refresh_token"])
    assert rotated.status_code == 200
    assert env.redeem(app, code, verifier).status_code == 400
    assert env.me(rotated.get_json()["access_token"]).status_code == 401
    assert env.refresh(app, rotated.get_json()["refresh_token"]).status_code == 400


def test_an_expired_code_is_invalid_grant(env: Env) -> None:
    app = env.register()
    code, verifier = env.code_for(app)
    with env.session() as session:
        row = session.scalar(select(OAuthCode).where(OAuthCode.code_hash == oauth.digest(code)))
        assert row.expires_at - row.created_at <= timedelta(seconds=60)  # ASVS 10.4.3 (L3)
        row.expires_at = now() - timedelta(seconds=1)
    answer = env.redeem(app, code, verifier)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_grant"


# --- R4: refresh tokens rotate; reuse revokes the family ----------------------------------------


def test_refresh_rotates_and_retires_the_old_pair(env: Env) -> None:
    app = env.register()
    first = env.tokens(app)
    answer = env.refresh(app, first["refresh_token"])
    assert answer.status_code == 200
    second = answer.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert env.me(first["access_token"]).status_code == 401
    assert env.me(second["access_token"]).status_code == 200


def test_a_reused_refresh_token_revokes_the_whole_family(env: Env) -> None:
    app, gateway = env.register(), env.resource_server()
    first = env.tokens(app)
    second = env.refresh(app, first["refresh_token"]).get_json()
    third = env.refresh(app, second["refresh_token"]).get_json()
    assert env.me(third["access_token"]).status_code == 200

    reused = env.refresh(app, first["refresh_token"])
    assert reused.status_code == 400
    assert reused.get_json()["error"] == "invalid_grant"

    for pair in (first, second, third):
        assert env.me(pair["access_token"]).status_code == 401
        assert env.introspect(gateway, pair["access_token"]) == {"active": False}
    latest = env.refresh(app, third["refresh_token"])
    assert latest.status_code == 400 and latest.get_json()["error"] == "invalid_grant"


def test_reuse_of_one_family_leaves_other_grants_alone(env: Env) -> None:
    app = env.register()
    victim, bystander = env.tokens(app), env.tokens(app)
    env.refresh(app, victim["refresh_token"])
    assert env.refresh(app, victim["refresh_token"]).status_code == 400
    assert env.me(bystander["access_token"]).status_code == 200
    assert env.refresh(app, bystander["refresh_token"]).status_code == 200


def test_an_expired_access_token_is_refused_but_its_refresh_token_still_works(env: Env) -> None:
    app, gateway = env.register(), env.resource_server()
    tokens = env.tokens(app)
    with env.session() as session:
        session.execute(
            update(OAuthToken)
            .where(OAuthToken.access_token_hash == oauth.digest(tokens["access_token"]))
            .values(access_expires_at=now() - timedelta(seconds=1))
        )
    refused = env.me(tokens["access_token"])
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert env.introspect(gateway, tokens["access_token"]) == {"active": False}
    assert env.refresh(app, tokens["refresh_token"]).status_code == 200


def test_a_refresh_token_past_its_absolute_expiry_fails(env: Env) -> None:
    app = env.register()
    tokens = env.tokens(app)
    with env.session() as session:
        session.execute(
            update(OAuthToken)
            .where(OAuthToken.refresh_token_hash == oauth.digest(tokens["refresh_token"]))
            .values(refresh_expires_at=now() - timedelta(seconds=1))
        )
    answer = env.refresh(app, tokens["refresh_token"])
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_grant"


def test_rotation_does_not_extend_the_absolute_expiry(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 days from the first token of the family, however often it was refreshed (ASVS 10.4.8)."""
    from cltd.web.oauth import server

    app = env.register()
    start = now()
    first = env.tokens(app)
    monkeypatch.setattr(server, "now", lambda: start + timedelta(days=20))
    later = env.refresh(app, first["refresh_token"])
    assert later.status_code == 200, later.get_json()
    monkeypatch.setattr(server, "now", lambda: start + oauth.REFRESH_LIFETIME + timedelta(days=1))
    answer = env.refresh(app, later.get_json()["refresh_token"])
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_grant"


# --- R5: revocation -------------------------------------------------------------------------------


def test_revoking_the_access_token_also_ends_its_refresh_token(env: Env) -> None:
    app = env.register()
    tokens = env.tokens(app)
    answer = env.revoke(app, tokens["access_token"], token_type_hint="access_token")
    assert answer.status_code == 200
    assert env.me(tokens["access_token"]).status_code == 401
    assert env.refresh(app, tokens["refresh_token"]).status_code == 400


def test_an_app_cannot_revoke_another_apps_token(env: Env) -> None:
    app, other = env.register(), env.register(name="Other App")
    tokens = env.tokens(app)
    answer = env.revoke(other, tokens["access_token"])
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_grant"
    assert env.me(tokens["access_token"]).status_code == 200


def test_a_disabled_clients_tokens_stop_working(env: Env) -> None:
    app, gateway = env.register(), env.resource_server()
    tokens = env.tokens(app)
    assert env.me(tokens["access_token"]).status_code == 200
    with env.session() as session:
        oauth.disable_client(session, app.client_id, actor="steward:test", at=now())
    assert env.me(tokens["access_token"]).status_code == 401
    assert env.introspect(gateway, tokens["access_token"]) == {"active": False}
    refresh = env.refresh(app, tokens["refresh_token"])
    assert refresh.status_code in (400, 401)
    assert refresh.get_json()["error"] == "invalid_client"
    # Nor can it start a new authorization: the member sees an error page, not a redirect.
    query = env.authorize_query(app.client_id, challenge=pkce()[1])
    assert_error_page(env.consent_page(query))


# --- client authentication and grants -----------------------------------------------------------


def _confidential(env: Env, **options: object) -> App:
    values: dict[str, object] = {
        "client_type": "confidential",
        "scopes": ("catalog:read", "records:read"),
        "grant_types": ("client_credentials",),
        "redirect_uris": (),
        "name": "Housing Study",
    }
    values.update(options)
    return env.register(**values)


def test_a_confidential_client_with_a_wrong_secret_is_invalid_client(env: Env) -> None:
    app = _confidential(env)
    basic = env.api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(app.client_id, app.secret + "x"),  # type: ignore[operator]
    )
    assert basic.status_code == 401
    assert basic.get_json()["error"] == "invalid_client"
    assert basic.headers["WWW-Authenticate"].startswith("Basic")
    posted = env.token(App(app.client_id, "not-the-secret"), grant_type="client_credentials")
    assert posted.status_code in (400, 401)
    assert posted.get_json()["error"] == "invalid_client"
    bare = env.token(App(app.client_id), grant_type="client_credentials")
    assert bare.status_code in (400, 401)
    assert bare.get_json()["error"] == "invalid_client"
    right = env.api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(app.client_id, app.secret),  # type: ignore[arg-type]
    )
    assert right.status_code == 200


def test_a_public_client_cannot_use_client_credentials(env: Env) -> None:
    app = env.register()
    answer = env.token(app, grant_type="client_credentials", scope="profile:read")
    assert answer.status_code in (400, 401)
    assert answer.get_json()["error"] in ("unauthorized_client", "invalid_client")
    assert "access_token" not in answer.get_json()
    with env.session() as session, pytest.raises(InvalidInput):
        register(session, grant_types=("authorization_code", "client_credentials"))


def test_a_client_without_the_grant_is_unauthorized_client(env: Env) -> None:
    app = _confidential(
        env,
        grant_types=("authorization_code",),
        redirect_uris=(REDIRECT,),
        scopes=("profile:read",),
    )
    answer = env.token(app, grant_type="client_credentials")
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "unauthorized_client"


def test_a_scope_not_registered_for_the_client_is_not_granted(env: Env) -> None:
    app, gateway = env.register(), env.resource_server()
    _verifier, challenge = pkce()
    query = env.authorize_query(
        app.client_id, challenge=challenge, scope="profile:read tokens:read"
    )
    page = env.consent_page(query).get_data(as_text=True)
    assert "profile:read" in page and "tokens:read" not in page
    code, verifier = env.code_for(app, scope="profile:read tokens:read clients:write")
    tokens = env.redeem(app, code, verifier).get_json()
    assert tokens["scope"] == "profile:read"
    assert env.introspect(gateway, tokens["access_token"])["scope"] == "profile:read"
    wider = env.refresh(app, tokens["refresh_token"], scope="profile:read consent:read")
    assert wider.status_code == 400 and wider.get_json()["error"] == "invalid_scope"

    consumer = _confidential(env)
    granted = env.token(
        consumer, grant_type="client_credentials", scope="catalog:read profile:read"
    )
    assert granted.status_code == 200
    assert granted.get_json()["scope"] == "catalog:read"


def test_a_client_credentials_token_carries_only_consumer_scopes(env: Env) -> None:
    """A consumer acting for itself holds catalog:read / records:read at most (cltd.rules.roles
    CONSUMER_SCOPES): never a member's scope, nor a steward's clients:write."""
    wanted = ("catalog:read", "profile:read", "consent:write", "clients:write")
    try:
        app = _confidential(env, scopes=wanted)
    except InvalidInput:
        return  # refused when registered: just as good
    answer = env.token(app, grant_type="client_credentials", scope=" ".join(wanted))
    if answer.status_code != 200:
        assert answer.get_json()["error"] in RFC6749_TOKEN_ERRORS
        return
    granted = set(answer.get_json().get("scope", "").split())
    assert granted <= {s.value for s in CONSUMER_SCOPES}, granted


# --- error names --------------------------------------------------------------------------------


def test_token_endpoint_errors_use_the_rfc_6749_names(env: Env) -> None:
    app = env.register()
    consumer = _confidential(env)
    code, verifier = env.code_for(app)
    env.redeem(app, code, verifier)
    cases = {
        "unsupported_grant_type": env.token(
            app, grant_type="password", username="nadia", password="secret"
        ),
        "invalid_request": env.token(app, grant_type="authorization_code", redirect_uri=REDIRECT),
        "invalid_client": env.token(
            App("no-such-client"), grant_type="authorization_code", code="x"
        ),
        "invalid_grant": env.redeem(app, code, verifier),
        "unauthorized_client": env.token(
            _confidential(env, grant_types=("authorization_code",), redirect_uris=(REDIRECT,)),
            grant_type="client_credentials",
        ),
        "invalid_scope": env.token(
            consumer, grant_type="client_credentials", scope="admin:everything"
        ),
    }
    for expected, answer in cases.items():
        body = answer.get_json()
        assert body is not None, (expected, answer.status_code)
        assert body["error"] == expected, (expected, body)
        assert body["error"] in RFC6749_TOKEN_ERRORS
        assert answer.status_code in (400, 401), (expected, answer.status_code)
        assert answer.headers["Content-Type"].startswith("application/json")
        assert "no-store" in answer.headers.get("Cache-Control", ""), expected


def test_authorization_endpoint_errors_use_the_rfc_6749_names(env: Env) -> None:
    app = env.register()
    _verifier, challenge = pkce()
    cases = {
        "invalid_request": env.authorize_query(app.client_id),
        "unsupported_response_type": env.authorize_query(
            app.client_id, challenge=challenge, response_type="token"
        ),
        "invalid_scope": env.authorize_query(
            app.client_id, challenge=challenge, scope="admin:everything"
        ),
    }
    answers = {name: env.consent_page(query) for name, query in cases.items()}
    answers["access_denied"] = env.decide(
        env.authorize_query(app.client_id, challenge=challenge), approve=False
    )
    for expected, answer in answers.items():
        assert answer.status_code == 302, (expected, answer.status_code)
        params = parse_qs(urlsplit(answer.headers["Location"]).query)
        assert params["error"] == [expected]
        assert expected in RFC6749_AUTHORIZE_ERRORS
        assert params["state"] == ["xyz"]


def test_a_successful_token_response_is_not_cached(env: Env) -> None:
    app = env.register()
    code, verifier = env.code_for(app)
    answer = env.redeem(app, code, verifier)
    assert answer.status_code == 200
    assert "no-store" in answer.headers["Cache-Control"]
    body = answer.get_json()
    assert body["token_type"].lower() == "bearer"
    assert 0 < body["expires_in"] <= 3600
    with env.session() as session:
        # Only hashes are kept: the strings themselves appear nowhere in the database row.
        row = session.scalar(
            select(OAuthToken).where(
                OAuthToken.access_token_hash == oauth.digest(body["access_token"])
            )
        )
        assert row is not None and body["access_token"] not in (
            row.access_token_hash,
            row.refresh_token_hash,
        )
