"""Board proposals, the electorate fixed when each opens, and one ballot per seat."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cltd.models.assets import Asset
from cltd.models.base import Base, JSONDocument, UTCDateTime
from cltd.models.members import Member


class ProposalStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PASSED = "passed"
    REJECTED = "rejected"
    EXECUTED = "executed"


# A proposal still on its way to being carried out: a rejected or executed one is not.
UNDECIDED = (ProposalStatus.DRAFT, ProposalStatus.OPEN, ProposalStatus.PASSED)


class Proposal(Base):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    recipient: Mapped[str | None] = mapped_column(String(200))
    recipient_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # A transfer to a pinned peer trust (executed as a signed offer to it).
    recipient_peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id"))
    # An accept_asset proposal: the incoming transfer it decides.
    transfer_pk: Mapped[int | None] = mapped_column(Integer, index=True)
    # A licence proposal answers one pending access request (a board-review purpose).
    access_request_id: Mapped[int | None] = mapped_column(ForeignKey("access_requests.id"))
    # An amendment carries the whole new bylaws file, checked before it could be proposed.
    bylaws_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.DRAFT)
    # The rules it is decided under, frozen at opening: {"version", "digest", "classes": {...}}
    rules: Mapped[dict[str, object]] = mapped_column(JSONDocument, default=dict)
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The audit entry that closed it: its sequence orders the published decision records, and
    # its hash commits to every entry before it (each ballot included).
    closed_seq: Mapped[int | None] = mapped_column(BigInteger, index=True)
    closed_hash: Mapped[str | None] = mapped_column(String(64))
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


class ElectionStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Election(Base):
    """Members of one class elect that class's seats: the most votes win (ties as the bylaws
    say); evaluated when read after the window, like proposals."""

    __tablename__ = "elections"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_class: Mapped[str] = mapped_column(String(40))
    seat_numbers: Mapped[list[int]] = mapped_column(JSONDocument)
    term_months: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ElectionStatus.OPEN)
    tie_break: Mapped[str] = mapped_column(String(16))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(80))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # {"counts": {member id: votes}, "winners": [member id, ...], "tie": {...} or None}
    result: Mapped[dict[str, object]] = mapped_column(JSONDocument, default=dict)


class Candidate(Base):
    __tablename__ = "election_candidates"
    __table_args__ = (UniqueConstraint("election_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    statement: Mapped[str] = mapped_column(Text, default="")

    member: Mapped[Member] = relationship()


class ElectionVote(Base):
    """One vote per member and election (the unique constraint holds it under any race)."""

    __tablename__ = "election_votes"
    __table_args__ = (UniqueConstraint("election_id", "voter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("election_candidates.id"))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LicencePayment(Base):
    """Money a licensee paid under a licence the board passed, and how it was shared."""

    __tablename__ = "licence_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    commons_cents: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(80))

    proposal: Mapped[Proposal] = relationship()


class LedgerShare(Base):
    """One contributor's part of a licence payment (member ids are kept after they leave)."""

    __tablename__ = "ledger_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("licence_payments.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    records_served: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer)


class AdoptedBylaws(Base):
    """Bylaws adopted by an amendment the board passed; the newest row is in force (every app
    host reads it from the database, so all of them change rules at the same moment)."""

    __tablename__ = "adopted_bylaws"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), unique=True)
    adopted_at: Mapped[datetime] = mapped_column(UTCDateTime())
