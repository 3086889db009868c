"""Board proposals, the electorate fixed when each opens, and one ballot per seat."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cltd.models.assets import Asset
from cltd.models.base import Base, JSONDocument, UTCDateTime


class ProposalStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PASSED = "passed"
    REJECTED = "rejected"
    EXECUTED = "executed"


class Proposal(Base):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    recipient: Mapped[str | None] = mapped_column(String(200))
    recipient_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.DRAFT)
    # The rules it is decided under, frozen at opening: {"version", "digest", "classes": {...}}
    rules: Mapped[dict[str, object]] = mapped_column(JSONDocument, default=dict)
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    asset: Mapped[Asset | None] = relationship()


class ElectorateSeat(Base):
    """A seat that may vote on a proposal: the seat holders at the moment it opened."""

    __tablename__ = "proposal_electorate"
    __table_args__ = (UniqueConstraint("proposal_id", "seat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id"))
    member_class: Mapped[str] = mapped_column(String(40))
    holder_id: Mapped[int | None] = mapped_column(Integer)


class BallotRow(Base):
    """One ballot per seat and proposal (the unique constraint holds it under any race)."""

    __tablename__ = "ballots"
    __table_args__ = (UniqueConstraint("proposal_id", "seat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id"))
    member_class: Mapped[str] = mapped_column(String(40))
    choice: Mapped[str] = mapped_column(String(8))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime())
