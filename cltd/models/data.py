"""What members contribute and who reads it: data keys, sealed records, consents, access
requests, grants, and the log of every read."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cltd.models.assets import Asset
from cltd.models.base import Base, JSONDocument, UTCDateTime
from cltd.models.oauth import OAuthClient


class MemberKey(Base):
    """A member's data key, wrapped by a key-encryption key. Deleting it shreds their data."""

    __tablename__ = "member_keys"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    kek_id: Mapped[int] = mapped_column(Integer)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Record(Base):
    """One contribution to an asset, sealed under its contributor's data key."""

    __tablename__ = "records"
    __table_args__ = (Index("ix_records_asset_contributor", "asset_id", "contributor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    contributor_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Consent(Base):
    """A member's consent to one purpose, for one asset or all (asset_id None).

    Rows are never rewritten except to end them (withdrawn_at), so they are the member's
    consent history as well as the current state.
    """

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_lookup", "member_id", "purpose", "asset_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(80))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    asset: Mapped[Asset | None] = relationship()


class RequestStatus(StrEnum):
    GRANTED = "granted"
    PENDING = "pending"  # a board-review purpose: waits for a licence proposal
    REFUSED = "refused"


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(80))
    justification: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    client: Mapped[OAuthClient] = relationship()
    asset: Mapped[Asset] = relationship()


class Grant(Base):
    """A consumer's right to read (asset, purpose) until it expires or is revoked."""

    __tablename__ = "grants"
    __table_args__ = (Index("ix_grants_lookup", "client_pk", "asset_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(80))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("access_requests.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[OAuthClient] = relationship()
    asset: Mapped[Asset] = relationship()


class AccessEvent(Base):
    """One read by a consumer: the page of records it was served."""

    __tablename__ = "access_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(80))
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    record_count: Mapped[int] = mapped_column(Integer)

    client: Mapped[OAuthClient] = relationship()
    asset: Mapped[Asset] = relationship()


class AccessEventContributor(Base):
    """Whose records a read served, and how many: what "Who used my data" lists."""

    __tablename__ = "access_event_contributors"
    __table_args__ = (UniqueConstraint("event_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("access_events.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(Integer, index=True)  # kept after the member leaves
    record_count: Mapped[int] = mapped_column(Integer)

    event: Mapped[AccessEvent] = relationship()


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the last retry


class OutboxJob(Base):
    """Work that must outlive the request: written in the same transaction as the change."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, object]] = mapped_column(JSONDocument)
    member_id: Mapped[int | None] = mapped_column(Integer, index=True)  # whose change caused it
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
