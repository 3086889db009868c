"""Assets moving between trusts: one row per transfer on each side, keyed by the transfer id
both sides share, and whose records each move carried (for "Who used my data")."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cltd.models.assets import Asset
from cltd.models.base import Base, JSONDocument, UTCDateTime
from cltd.models.peers import Peer


class Direction(StrEnum):
    OUTGOING = "outgoing"  # our board decided to transfer one of our assets
    INCOMING = "incoming"  # another trust offers us one of its assets


class TransferState(StrEnum):
    OFFERED = "offered"  # the asset is with the sender; the recipient has not decided
    ACCEPTED = "accepted"  # the recipient decided yes; its worker fetches the records
    STAGED = "staged"  # incoming: the records are here, sealed, not served until handover
    COMPLETED = "completed"  # custody moved: the sender's catalog shows the tombstone
    REFUSED = "refused"  # the asset stays with its sender
    EXPIRED = "expired"  # not accepted in time: the asset stays with its sender


OPEN_STATES = (TransferState.OFFERED, TransferState.ACCEPTED, TransferState.STAGED)


class Transfer(Base):
    __tablename__ = "transfers"
    # One decision record rests one offer only, even when two copies arrive at once.
    __table_args__ = (
        UniqueConstraint("transfer_id", "direction"),
        UniqueConstraint("decision_iri"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(12))
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id"), index=True)
    # Outgoing: the asset we offer. Incoming: the asset staged or received here.
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    # Outgoing: the transfer proposal. Incoming: none; an accept_asset proposal names the offer
    # it decides (Proposal.transfer_pk).
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    our_base: Mapped[str] = mapped_column(String(300))  # our origin, as the peer knows us
    title: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    offer: Mapped[dict[str, object]] = mapped_column(JSONDocument)  # the signed offer
    records: Mapped[int] = mapped_column(Integer)
    contributors: Mapped[int] = mapped_column(Integer)
    package_digest: Mapped[str | None] = mapped_column(String(64))
    receipt: Mapped[dict[str, object] | None] = mapped_column(JSONDocument)  # signed handover
    # Incoming: the sender's decision record, which one offer alone may rest on.
    decision_iri: Mapped[str | None] = mapped_column(String(500))
    # Outgoing: when the newest package request we served was signed; an older or equal one
    # is a replay and is refused (a signed request is good for one package only).
    last_request_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason_code: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    peer: Mapped[Peer] = relationship()
    asset: Mapped[Asset | None] = relationship()


class TransferContributor(Base):
    """How many of one member's records a completed transfer carried."""

    __tablename__ = "transfer_contributors"
    __table_args__ = (UniqueConstraint("transfer_pk", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_pk: Mapped[int] = mapped_column(ForeignKey("transfers.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)  # kept after the member leaves
    record_count: Mapped[int] = mapped_column(Integer)

    transfer: Mapped[Transfer] = relationship()
