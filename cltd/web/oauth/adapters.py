"""Our rows seen through authlib's client, code and token interfaces (no state of their own)."""

from __future__ import annotations

from datetime import UTC, datetime

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list

from cltd.models import ClientType, OAuthClient, OAuthCode, OAuthToken
from cltd.services import oauth


class Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, row: OAuthClient) -> None:
        self.row = row
        self.client_id = row.client_id

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Never guess: a request must name one of the registered addresses exactly (R1).
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.row.scopes)
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris  # exact string match, no normalising

    def check_client_secret(self, client_secret: str) -> bool:
        return oauth.check_client_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.client_type == ClientType.PUBLIC:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.row.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, row: OAuthCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


class Token(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: OAuthToken, at: datetime) -> None:
        self.row = row
        self.at = at
        self.scope = row.scope

    def check_client(self, client: Client) -> bool:
        return self.row.client_pk == client.row.id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.row.access_expires_at - self.at).total_seconds()))

    def is_expired(self) -> bool:
        return self.row.access_expires_at <= self.at

    def is_revoked(self) -> bool:
        return not oauth.is_live(self.row, self.at) and not self.is_expired()


def timestamp(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())
