"""Board seats: the bylaws fix how many each class has; a seat goes only to its own class."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.models import Member, MemberStatus, Seat
from cltd.rules.bylaws import Bylaws
from cltd.rules.codes import Code
from cltd.services import audit
from cltd.services.audit import AuditAction
from cltd.services.errors import InvalidInput


def assign_seat(
    session: Session,
    bylaws: Bylaws,
    *,
    member: Member,
    member_class: str,
    number: int,
    actor: str,
    at: datetime,
    term_end: datetime | None = None,
) -> Seat:
    """Give seat NUMBER of MEMBER_CLASS to MEMBER, replacing any holder (invariant 4)."""
    if member_class not in bylaws.class_keys():
        raise InvalidInput(Code.CLASS_UNKNOWN, "member_class", {"value": member_class})
    if not 1 <= number <= bylaws.member_class(member_class).seats:
        raise InvalidInput(
            Code.SEAT_UNKNOWN, "number", {"member_class": member_class, "number": number}
        )
    if member.status != MemberStatus.ACTIVE:
        raise InvalidInput(Code.MEMBER_NOT_ACTIVE, "member")
    if member.member_class != member_class:
        raise InvalidInput(
            Code.SEAT_WRONG_CLASS,
            "member",
            {"seat_class": member_class, "member_class": member.member_class},
        )
    seat = session.scalar(
        select(Seat)
        .where(Seat.member_class == member_class, Seat.number == number)
        .with_for_update()
    )
    # One member, one seat: a second seat would be a second ballot on every proposal.
    for other in session.scalars(select(Seat).where(Seat.holder_id == member.id)):
        if other is not seat and other.held_by_at(member.id, at):
            raise InvalidInput(
                Code.SEAT_ALREADY_HELD,
                "member",
                {"member_class": other.member_class, "number": other.number},
            )
    if seat is None:
        seat = Seat(member_class=member_class, number=number)
        session.add(seat)
    previous = seat.holder_id
    seat.holder_id = member.id
    seat.term_start = at
    seat.term_end = term_end
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.SEAT_ASSIGNED,
        subject=f"seat:{member_class}:{number}",
        at=at,
        details={
            "holder": member.id,
            "previous": previous,
            "term_end": term_end.isoformat() if term_end else None,
        },
    )
    return seat


def board(session: Session, bylaws: Bylaws) -> list[Seat]:
    """Every seat the bylaws give, in class order, a vacant one included (not yet stored)."""
    stored = {
        (seat.member_class, seat.number): seat
        for seat in session.scalars(select(Seat).order_by(Seat.member_class, Seat.number))
    }
    return [
        stored.get((c.key, n)) or Seat(member_class=c.key, number=n)
        for c in bylaws.classes
        for n in range(1, c.seats + 1)
    ]
