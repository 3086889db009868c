"""The server metadata (RFC 8414) says what the server does and nothing more (both engines)."""

from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed, NotFound

from cltd.rules.roles import Scope

WELL_KNOWN = "/.well-known/oauth-authorization-server"
ENDPOINTS = {
    "authorization_endpoint": ("GET", "oauth.authorize"),
    "token_endpoint": ("POST", "oauth.token"),
    "revocation_endpoint": ("POST", "oauth.revoke"),
    "introspection_endpoint": ("POST", "oauth.introspect"),
}


def _metadata(client: FlaskClient) -> dict[str, object]:
    answer = client.get(WELL_KNOWN)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    return answer.get_json()


def _route(app: Flask, url: str, method: str) -> str:
    parts = urlsplit(url)
    adapter = app.url_map.bind(parts.netloc, url_scheme=parts.scheme)
    try:
        endpoint, _args = adapter.match(parts.path, method=method)
    except (NotFound, MethodNotAllowed) as missing:
        raise AssertionError(f"{method} {url} is not served: {missing}") from None
    return endpoint


def test_metadata_names_the_issuer_and_endpoints_that_exist(
    client: FlaskClient, app: Flask
) -> None:
    data = _metadata(client)
    issuer = str(data["issuer"])
    parts = urlsplit(issuer)
    assert issuer == "http://localhost"
    assert not parts.query and not parts.fragment
    for key, (method, endpoint) in ENDPOINTS.items():
        url = str(data[key])
        assert url.startswith(issuer + "/"), (key, url)
        assert _route(app, url, method) == endpoint, key
    documentation = str(data["service_documentation"])
    assert _route(app, documentation, "GET")
    assert client.get(urlsplit(documentation).path).status_code == 200


def test_metadata_offers_pkce_s256_only_and_no_implicit_or_password_grant(
    client: FlaskClient,
) -> None:
    data = _metadata(client)
    assert data["code_challenge_methods_supported"] == ["S256"]
    grants = set(data["grant_types_supported"])  # type: ignore[arg-type]
    assert grants == {"authorization_code", "refresh_token", "client_credentials"}
    assert not grants & {"implicit", "password"}
    assert data["response_types_supported"] == ["code"]
    assert set(data["response_modes_supported"]) <= {"query"}  # type: ignore[arg-type]
    assert data["scopes_supported"] == [scope.value for scope in Scope]
    assert "none" not in data["introspection_endpoint_auth_methods_supported"]  # type: ignore[operator]


def test_metadata_is_valid_rfc_8414(client: FlaskClient) -> None:
    metadata = AuthorizationServerMetadata(_metadata(client))
    metadata.validate()


def test_the_server_refuses_what_the_metadata_leaves_out(client: FlaskClient) -> None:
    """The advertised list is the truth: a password grant and an implicit request are refused."""
    password = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "a", "password": "b", "client_id": "x"},
    )
    assert password.status_code == 400
    assert password.get_json()["error"] == "unsupported_grant_type"
    device = client.post(
        "/oauth/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": "x"},
    )
    assert device.status_code == 400
    assert device.get_json()["error"] == "unsupported_grant_type"
