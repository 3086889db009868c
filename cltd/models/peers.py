"""Peer trusts this trust pins, and the datasets their signed catalogs describe."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cltd.models.base import Base, JSONDocument, UTCDateTime


class Peer(Base):
    """A peer trust: its origin (the only address ever contacted), its DID and the key a
    steward pinned; the sync cursor and the last good state are kept when a sync fails."""

    __tablename__ = "peers"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(300), unique=True)
    did: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    key_multibase: Mapped[str] = mapped_column(String(120))
    # The peer's verified trust description (name, place, languages, bylaws, known peers).
    description: Mapped[dict[str, object]] = mapped_column(JSONDocument, default=dict)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    decision_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    datasets_held: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_good_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error_code: Mapped[str | None] = mapped_column(String(60))
    last_error_detail: Mapped[str | None] = mapped_column(Text)
    # When the newest page we accepted was signed: an older page is a replay and is refused.
    last_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A worker syncing this peer holds the lease until then, so two never sync it at once.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(120))


class PeerDataset(Base):
    """One dataset of a peer's catalog as last verified (a tombstone once it left the peer)."""

    __tablename__ = "peer_datasets"
    __table_args__ = (UniqueConstraint("peer_id", "iri"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    iri: Mapped[str] = mapped_column(String(500))
    change_seq: Mapped[int] = mapped_column(BigInteger)
    modified: Mapped[datetime] = mapped_column(UTCDateTime())
    title: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    description: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    keywords: Mapped[list[str]] = mapped_column(JSONDocument)
    languages: Mapped[list[str]] = mapped_column(JSONDocument)
    purposes: Mapped[list[str]] = mapped_column(JSONDocument)  # permitted purpose keys
    asset_locked: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))  # held, transferred, retired
    custodian: Mapped[str | None] = mapped_column(String(300))
    decision: Mapped[str | None] = mapped_column(String(500))
    access_url: Mapped[str | None] = mapped_column(String(500))
    document: Mapped[dict[str, object]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PeerDecision(Base):
    """A peer's published decision record, kept once its proof verified and it recounted."""

    __tablename__ = "peer_decisions"
    __table_args__ = (UniqueConstraint("peer_id", "iri"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    iri: Mapped[str] = mapped_column(String(500))
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(String(500))
    recipient: Mapped[str | None] = mapped_column(String(300))
    document: Mapped[dict[str, object]] = mapped_column(JSONDocument)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
