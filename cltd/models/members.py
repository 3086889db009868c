"""Members, their board seats and their signed-in web sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cltd.models.base import Base, UTCDateTime


class MemberStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"
    # A contributor of an asset received from another trust who is not a member here: their
    # records are served under the consents they carried; no seat, no vote, no sign-in.
    NON_MEMBER = "non-member"


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    member_class: Mapped[str] = mapped_column(String(40))
    is_steward: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    seats: Mapped[list[Seat]] = relationship(back_populates="holder")


class Seat(Base):
    """A board seat of one member class; its holder must belong to that class."""

    __tablename__ = "seats"
    __table_args__ = (UniqueConstraint("member_class", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_class: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    term_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    term_end: Mapped[datetime | None] = mapped_column(UTCDateTime())

    holder: Mapped[Member | None] = relationship(back_populates="seats")

    def held_by_at(self, member_id: int, at: datetime) -> bool:
        return (
            self.holder_id == member_id
            and (self.term_start is None or self.term_start <= at)
            and (self.term_end is None or at < self.term_end)
        )


class WebSession(Base):
    """A signed-in browser session, kept on the server so sign-out really ends it."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    member: Mapped[Member] = relationship()
