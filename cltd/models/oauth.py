"""OAuth 2.0 clients, authorization codes and tokens. Secrets are stored only as hashes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cltd.models.base import Base, JSONDocument, UTCDateTime
from cltd.models.members import Member


class ClientType(StrEnum):
    PUBLIC = "public"  # an app that cannot keep a secret (browser, phone): PKCE only
    CONFIDENTIAL = "confidential"  # a server that authenticates with its secret


class OAuthClient(Base):
    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    organisation: Mapped[str] = mapped_column(String(200))
    client_type: Mapped[str] = mapped_column(String(16))
    redirect_uris: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    scopes: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    # A registered resource server may ask the trust whether a token is live (RFC 7662).
    may_introspect: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the trust sends signed revocation notices for data this consumer holds.
    webhook_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OAuthCode(Base):
    __tablename__ = "oauth_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[OAuthClient] = relationship()


class OAuthToken(Base):
    """One issued access token and, maybe, its refresh token.

    Tokens issued from one authorization (a code, then each rotation of the refresh token)
    share a family: reusing a refresh token that was already rotated revokes the family.
    """

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(Text)
    family: Mapped[str] = mapped_column(String(32), index=True)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_codes.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refresh_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[OAuthClient] = relationship()
    member: Mapped[Member | None] = relationship()
