"""Shared pieces of the OAuth protocol tests.

* `env`: one migrated database per backend and test module, an app on it (real commits), a
  member signed in through the /signin form, and helpers that speak the protocol through
  Flask's test client. One sign-in per module keeps the many negative cases fast (Argon2 is
  slow on purpose); every test registers its own applications, so tests share no codes or
  tokens.
* `live_trust` (re-exported from the browser tests) and `race_trust`: the app on a loopback
  port, for real HTTP clients and for parallel requests.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from cltd.adapters.clock import now
from cltd.db import make_engine, make_sessionmaker, session_scope
from cltd.rules.bylaws import Bylaws
from cltd.services import oauth
from cltd.services.members import add_member
from tests.browser.conftest import LiveTrust, admit, live_trust  # noqa: F401
from tests.conftest import TEST_PASSWORD, DatabaseFactory, make_settings
from tests.web.helpers import csrf_token, sign_in

REDIRECT = "https://app.example.org/callback"
LOOPBACK_REDIRECT = "http://127.0.0.1:8765/cb"
REGISTERED = (REDIRECT, LOOPBACK_REDIRECT)
MEMBER_SCOPES = ("profile:read", "consent:read")
CODE_GRANTS = ("authorization_code", "refresh_token")
# RFC 6749 §4.1.2.1 and §5.2: the only error codes an authorization server may answer with
# (plus RFC 6750 §3.1 for the resource server, RFC 7009 §2.2.1 for revocation).
RFC6749_AUTHORIZE_ERRORS = frozenset(
    {
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
    }
)
RFC6749_TOKEN_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    }
)
_FORM_ACTION = re.compile(r'<form[^>]* action="([^"]+)"')


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce() -> tuple[str, str]:
    """A 64-character verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def consent_action(page_html: str) -> str:
    """Where the consent form posts to, as a browser reads it from the page."""
    actions = [html.unescape(a) for a in _FORM_ACTION.findall(page_html)]
    consent = [a for a in actions if urlsplit(a).path == "/oauth/authorize"]
    assert len(consent) == 1, actions
    return consent[0]


def register(
    session: Session,
    *,
    client_type: str = "public",
    scopes: tuple[str, ...] = MEMBER_SCOPES,
    grant_types: tuple[str, ...] = CODE_GRANTS,
    redirect_uris: tuple[str, ...] = REGISTERED,
    may_introspect: bool = False,
    name: str = "Garden Planner",
) -> oauth.Registered:
    return oauth.register_client(
        session,
        name=name,
        organisation="Allotment Society",
        client_type=client_type,
        redirect_uris=list(redirect_uris),
        scopes=list(scopes),
        grant_types=list(grant_types),
        may_introspect=may_introspect,
        actor="steward:test",
        at=now(),
    )


@dataclass(frozen=True)
class App:
    """An application registered for one test: its id and, if confidential, its secret."""

    client_id: str
    secret: str | None = None

    def credentials(self) -> dict[str, str]:
        """client_secret_post credentials (or just the id, for a public client)."""
        if self.secret is None:
            return {"client_id": self.client_id}
        return {"client_id": self.client_id, "client_secret": self.secret}


@dataclass
class Env:
    """An app on its own database, a signed-in member's browser, and a cookie-less API client."""

    app: Flask
    engine: Engine
    browser: FlaskClient
    api: FlaskClient
    member_id: int
    _consent_csrf: list[str] = field(default_factory=list)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(make_sessionmaker(self.engine)) as session:
            yield session

    def register(self, **options: object) -> App:
        with self.session() as session:
            registered = register(session, **options)  # type: ignore[arg-type]
            return App(registered.client.client_id, registered.secret)

    def resource_server(self) -> App:
        return self.register(
            client_type="confidential",
            scopes=("catalog:read",),
            grant_types=("client_credentials",),
            redirect_uris=(),
            may_introspect=True,
            name="Records Gateway",
        )

    # --- the authorization endpoint, as the member's browser ---------------------------------

    @staticmethod
    def authorize_query(
        client_id: str,
        *,
        challenge: str | None = None,
        method: str | None = "S256",
        redirect_uri: str | None = REDIRECT,
        scope: str | None = "profile:read",
        state: str | None = "xyz",
        response_type: str = "code",
    ) -> str:
        params: dict[str, str] = {"response_type": response_type, "client_id": client_id}
        optional = {
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": method,
        }
        params.update({key: value for key, value in optional.items() if value is not None})
        return urlencode(params)

    def csrf(self) -> str:
        """The CSRF token of the member's session (the same for every form of the session)."""
        if not self._consent_csrf:
            self._consent_csrf.append(csrf_token(self.browser.get("/").get_data(as_text=True)))
        return self._consent_csrf[0]

    def consent_page(self, query: str) -> TestResponse:
        return self.browser.get("/oauth/authorize?" + query)

    def decide(self, query: str, *, approve: bool = True) -> TestResponse:
        """Post the consent form for QUERY the way the page's form does."""
        decision = {"approve": "Allow"} if approve else {"deny": "Deny"}
        return self.browser.post(
            "/oauth/authorize?" + query, data={**decision, "csrf_token": self.csrf()}
        )

    def code_for(
        self,
        app: App,
        *,
        verifier: str | None = None,
        scope: str = "profile:read",
        redirect_uri: str = REDIRECT,
    ) -> tuple[str, str]:
        """Walk the consent screen and return (code, verifier)."""
        if verifier is None:
            verifier = secrets.token_urlsafe(48)
        query = self.authorize_query(
            app.client_id, challenge=s256(verifier), scope=scope, redirect_uri=redirect_uri
        )
        page = self.consent_page(query)
        assert page.status_code == 200, page.get_data(as_text=True)
        answer = self.browser.post(
            consent_action(page.get_data(as_text=True)),
            data={"approve": "Allow", "csrf_token": csrf_token(page.get_data(as_text=True))},
        )
        assert answer.status_code in (302, 303), answer.get_data(as_text=True)
        location = answer.headers["Location"]
        assert location.startswith(redirect_uri + "?"), location
        params = parse_qs(urlsplit(location).query)
        assert params["state"] == ["xyz"]
        return params["code"][0], verifier

    # --- the token, revocation and introspection endpoints, as the application ---------------

    def token(self, app: App | None = None, **data: str) -> TestResponse:
        body = {**(app.credentials() if app else {}), **data}
        return self.api.post("/oauth/token", data=body)

    def redeem(
        self, app: App, code: str, verifier: str | None, redirect_uri: str = REDIRECT
    ) -> TestResponse:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if verifier is not None:
            data["code_verifier"] = verifier
        return self.token(app, **data)

    def tokens(self, app: App, **options: str) -> dict[str, str]:
        """A fresh code redeemed: the token response."""
        code, verifier = self.code_for(app, **options)
        answer = self.redeem(app, code, verifier)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    def refresh(self, app: App, refresh_token: str, **extra: str) -> TestResponse:
        return self.token(app, grant_type="refresh_token", refresh_token=refresh_token, **extra)

    def revoke(self, app: App, token: str, **extra: str) -> TestResponse:
        return self.api.post("/oauth/revoke", data={**app.credentials(), "token": token, **extra})

    def introspect(self, server: App, token: str) -> Mapping[str, object]:
        answer = self.api.post("/oauth/introspect", data={**server.credentials(), "token": token})
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    def me(self, access_token: str) -> TestResponse:
        return self.api.get("/api/v1/me", headers=bearer(access_token))


@pytest.fixture(scope="module")
def env(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory, bylaws: Bylaws
) -> Iterator[Env]:
    from cltd.web import create_app

    url, engine = databases.new_migrated()
    settings = make_settings(
        tmp_path_factory.mktemp("oauth"), url, token_rate_limit="10000 per minute"
    )
    app = create_app(settings, engine=engine)
    app.config.update(TESTING=True)
    email = f"nadia-{secrets.token_hex(3)}@example.org"
    with session_scope(make_sessionmaker(engine)) as session:
        member = add_member(
            session,
            bylaws,
            email=email,
            display_name="Nadia",
            member_class=bylaws.class_keys()[0],
            password=TEST_PASSWORD,
            actor="steward:test",
            at=now(),
        )
        session.flush()
        member_id = member.id
    browser = app.test_client()
    signed_in = sign_in(browser, email, TEST_PASSWORD)
    assert signed_in.status_code in (302, 303), signed_in.get_data(as_text=True)
    try:
        yield Env(app, engine, browser, app.test_client(), member_id)
    finally:
        engine.dispose()


# --- live servers -----------------------------------------------------------------------------

HTTP_TIMEOUT = 30


def sign_in_over_http(trust: LiveTrust, browser: requests.Session, email: str) -> None:
    """Sign in the way a browser does: the /signin form with its CSRF token."""
    form = browser.get(trust.url + "/signin", timeout=HTTP_TIMEOUT)
    assert form.status_code == 200
    answer = browser.post(
        trust.url + "/signin",
        data={"email": email, "password": TEST_PASSWORD, "csrf_token": csrf_token(form.text)},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    assert answer.status_code in (302, 303), answer.text


def allow_over_http(browser: requests.Session, authorization_url: str) -> str:
    """Open the consent page at AUTHORIZATION_URL, press Allow, return the redirect."""
    consent = browser.get(authorization_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert consent.status_code == 200, consent.text
    answer = browser.post(
        urljoin(authorization_url, consent_action(consent.text)),
        data={"approve": "Allow", "csrf_token": csrf_token(consent.text)},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["Location"]


def register_over(trust: LiveTrust, **options: object) -> tuple[str, str | None]:
    """Register an application in the live trust's database: (client_id, secret)."""
    with session_scope(make_sessionmaker(trust.engine)) as session:
        registered = register(session, **options)  # type: ignore[arg-type]
        return registered.client.client_id, registered.secret


@pytest.fixture
def race_trust(fresh_database: tuple[str, Engine], tmp_path: Path) -> Iterator[LiveTrust]:
    """The trust on a loopback port with a pool big enough for 20 parallel token requests."""
    from cltd.web import create_app

    url, _engine = fresh_database
    engine = make_engine(url, pool_size=25, max_overflow=5)
    app = create_app(
        make_settings(tmp_path, url, token_rate_limit="10000 per minute"), engine=engine
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveTrust(f"http://127.0.0.1:{server.server_port}", engine)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        engine.dispose()
