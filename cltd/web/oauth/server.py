"""authlib's authorization server, wired to cltd.services.oauth.

Grants only add to the request's session; the request commits (see cltd.web). The token,
revocation and introspection endpoints keep their writes even when they answer an error,
because a burned code or a revoked family must stay burned and revoked.
"""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask

from cltd.adapters.clock import now
from cltd.models import Member
from cltd.rules.roles import CONSUMER_SCOPES, Scope
from cltd.services import oauth
from cltd.web.oauth.adapters import AuthorizationCode, Client, Token, timestamp
from cltd.web.state import db

ACCESS_TOKEN_SECONDS = 600
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 for every client, public or confidential; `plain` is refused (R2)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - authlib's class attribute
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):  # type: ignore[no-untyped-def]
        payload = grant.request.payload.data
        if not payload.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        if payload.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Unsupported 'code_challenge_method': use S256.")
        return super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge_method(self, authorization_code) -> str:  # type: ignore[no-untyped-def]
        """Whatever a stored row says, a verifier is only ever checked the S256 way."""
        return "S256"


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(request, client):  # type: ignore[no-untyped-def]
        """Exact match only, and an error that never echoes the request's text (authlib
        refuses descriptions with characters RFC 6749 forbids, which would be a 500)."""
        uri = request.payload.redirect_uri
        if not uri:
            raise InvalidRequestError("Missing 'redirect_uri' in request.")
        if not client.check_redirect_uri(uri):
            raise InvalidRequestError("The redirect URI is not registered for this client.")
        return uri

    def save_authorization_code(self, code: str, request) -> None:  # type: ignore[no-untyped-def]
        payload = request.payload.data
        oauth.save_code(
            db(),
            client=request.client.row,
            member=request.user,
            code=code,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "",
            challenge=payload["code_challenge"],
            method=payload["code_challenge_method"],
            at=now(),
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        row = oauth.consume_code(db(), code, client.row, now())
        return AuthorizationCode(row) if row is not None else None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing to do: the code was spent when it was looked up, and is kept for replays."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Member | None:
        member = db().get(Member, authorization_code.row.member_id)
        return member if member is not None and member.status == "active" else None


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        client = self.request.client
        row = oauth.consume_refresh_token(db(), refresh_token, client.row, now())
        return Token(row, now()) if row is not None else None

    def authenticate_user(self, refresh_token: Token) -> Member | None:
        member = refresh_token.row.member
        return member if member is not None and member.status == "active" else None

    def revoke_old_credential(self, refresh_token: Token) -> None:
        oauth.retire_rotated(db(), refresh_token.row, now())


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    """A consumer acting for itself holds consumer scopes only, whatever it registered."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def create_token_response(self):  # type: ignore[no-untyped-def]
        client = self.request.client
        asked = self.request.payload.scope
        requested = scope_to_list(asked) if asked else list(client.row.scopes)
        consumer = {s.value for s in CONSUMER_SCOPES} & set(client.row.scopes)
        scope = list_to_scope([s for s in requested if s in consumer])
        token = self.generate_token(scope=scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        row = oauth.find_by_any(db(), token_string, token_type_hint)
        return Token(row, now()) if row is not None else None

    def revoke_token(self, token: Token, request) -> None:  # type: ignore[no-untyped-def]
        oauth.revoke(db(), token.row, actor=f"client:{request.client.client_id}", at=now())


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        row = oauth.find_by_any(db(), token_string, token_type_hint)
        return Token(row, now()) if row is not None else None

    def check_permission(self, token: Token, client: Client, request) -> bool:  # type: ignore[no-untyped-def]
        """Only registered resource servers may ask about tokens (RFC 7662 §4)."""
        return bool(client.row.may_introspect)

    def introspect_token(self, token: Token) -> dict[str, object]:
        row = token.row
        if not oauth.is_live(row, token.at):
            return {"active": False}
        return {
            "active": True,
            "client_id": row.client.client_id,
            "token_type": "Bearer",
            "scope": row.scope,
            "sub": f"member:{row.member_id}" if row.member_id else f"client:{row.client.client_id}",
            "exp": timestamp(row.access_expires_at),
            "iat": timestamp(row.issued_at),
        }


def _query_client(client_id: str) -> Client | None:
    row = oauth.find_client(db(), client_id)
    return Client(row) if row is not None else None


def _save_token(token: dict[str, object], request) -> None:  # type: ignore[no-untyped-def]
    code = request.authorization_code.row if request.authorization_code is not None else None
    parent = request.refresh_token.row if request.refresh_token is not None else None
    oauth.save_token(
        db(),
        token,
        client=request.client.row,
        member=request.user,
        at=now(),
        code=code,
        parent=parent,
    )


def build_server(app: Flask) -> AuthorizationServer:
    app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", True)
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", [s.value for s in Scope])
    app.config.setdefault(
        "OAUTH2_TOKEN_EXPIRES_IN",
        {
            "authorization_code": ACCESS_TOKEN_SECONDS,
            "refresh_token": ACCESS_TOKEN_SECONDS,
            "client_credentials": ACCESS_TOKEN_SECONDS,
        },
    )
    server = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(AuthorizationCodeGrant, [S256Only(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    return server
