"""Board elections: the members of one class elect that class's seats. A steward calls the
election (which seats, the window, the term) and names candidates from that class before voting
starts; each member of the class votes once for one candidate; after the window the most votes
win, a tie settled as the bylaws say (lot or seniority), and the winners take their seats for
the term. Like proposals, an election closes when it is read after its window: no scheduler.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.models import Candidate, Election, ElectionStatus, ElectionVote, Member, MemberStatus
from cltd.rules.bylaws import Bylaws, TieBreak
from cltd.rules.codes import Code
from cltd.services import audit
from cltd.services.audit import AuditAction
from cltd.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from cltd.services.seats import assign_seat

_MAX_WINDOW = timedelta(days=366)
_DAYS_PER_MONTH = 30.44


def call_election(
    session: Session,
    bylaws: Bylaws,
    *,
    member_class: str,
    seat_numbers: list[int],
    opens_at: datetime,
    closes_at: datetime,
    term_months: int,
    actor: str,
    at: datetime,
) -> Election:
    if member_class not in bylaws.class_keys():
        raise InvalidInput(Code.CLASS_UNKNOWN, "member_class", {"value": member_class})
    seats = bylaws.member_class(member_class).seats
    if (
        not seat_numbers
        or len(set(seat_numbers)) != len(seat_numbers)
        or not all(1 <= n <= seats for n in seat_numbers)
    ):
        raise InvalidInput(Code.ELECTION_SEATS_INVALID, "seat_numbers")
    if not (opens_at < closes_at <= opens_at + _MAX_WINDOW):
        raise InvalidInput(Code.ELECTION_WINDOW_INVALID, "closes_at")
    if not 1 <= term_months <= 120:
        raise InvalidInput(Code.ELECTION_TERM_INVALID, "term_months")
    election = Election(
        member_class=member_class,
        seat_numbers=sorted(seat_numbers),
        term_months=term_months,
        status=ElectionStatus.OPEN,
        tie_break=bylaws.election_tie_break.value,
        opens_at=opens_at,
        closes_at=closes_at,
        created_by=actor,
        result={},
    )
    session.add(election)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ELECTION_CALLED,
        subject=f"election:{election.id}",
        at=at,
        details={
            "class": member_class,
            "seats": election.seat_numbers,
            "opens_at": opens_at.isoformat(),
            "closes_at": closes_at.isoformat(),
            "term_months": term_months,
        },
    )
    return election


def candidate_unknown() -> InvalidInput:
    return InvalidInput(Code.CANDIDATE_UNKNOWN, "member_id")


def get_election(session: Session, election_id: int, *, lock: bool = False) -> Election:
    query = select(Election).where(Election.id == election_id)
    election = session.scalar(query.with_for_update() if lock else query)
    if election is None:
        raise NotFound(Code.ELECTION_UNKNOWN, "election_id")
    return election


def list_elections(session: Session) -> list[Election]:
    return list(session.scalars(select(Election).order_by(Election.id.desc())))


def candidates(session: Session, election: Election) -> list[Candidate]:
    return list(
        session.scalars(
            select(Candidate).where(Candidate.election_id == election.id).order_by(Candidate.id)
        )
    )


def add_candidate(
    session: Session,
    election_id: int,
    *,
    member: Member,
    statement: str,
    actor: str,
    at: datetime,
) -> Candidate:
    election = get_election(session, election_id, lock=True)
    if at >= election.opens_at:
        raise Conflict(Code.CANDIDATES_AFTER_OPEN, "election_id")
    if member.member_class != election.member_class or member.status != MemberStatus.ACTIVE:
        raise InvalidInput(
            Code.ELECTION_WRONG_CLASS, "member", {"member_class": election.member_class}
        )
    if session.scalar(
        select(Candidate.id).where(
            Candidate.election_id == election.id, Candidate.member_id == member.id
        )
    ):
        raise Conflict(Code.CANDIDATE_ALREADY, "member")
    candidate = Candidate(election_id=election.id, member_id=member.id, statement=statement.strip())
    session.add(candidate)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.CANDIDATE_ADDED,
        subject=f"election:{election.id}",
        at=at,
        details={"member": member.id},
    )
    return candidate


def vote(
    session: Session,
    bylaws: Bylaws,
    election_id: int,
    *,
    voter: Member,
    candidate_id: int,
    at: datetime,
) -> ElectionVote:
    """One vote per member of the class; the election row is locked so a vote and the close
    are ordered, and the unique constraint holds one vote per member under any race."""
    election = settle(session, bylaws, get_election(session, election_id, lock=True), at)
    if election.status != ElectionStatus.OPEN:
        raise Conflict(Code.ELECTION_CLOSED, "election_id")
    if at < election.opens_at:
        raise Conflict(Code.ELECTION_NOT_OPEN_YET, "election_id")
    if voter.member_class != election.member_class or voter.status != MemberStatus.ACTIVE:
        raise Forbidden(Code.ELECTION_WRONG_CLASS, "voter", {"member_class": election.member_class})
    candidate = session.get(Candidate, candidate_id)
    if candidate is None or candidate.election_id != election.id:
        raise InvalidInput(Code.CANDIDATE_UNKNOWN, "candidate_id")
    if session.scalar(
        select(ElectionVote.id).where(
            ElectionVote.election_id == election.id, ElectionVote.voter_id == voter.id
        )
    ):
        raise Conflict(Code.ELECTION_ALREADY_VOTED, "voter")
    ballot = ElectionVote(
        election_id=election.id, voter_id=voter.id, candidate_id=candidate.id, cast_at=at
    )
    session.add(ballot)
    session.flush()
    # Who voted is recorded; for whom is not (a secret ballot, as for board proposals).
    audit.record(
        session,
        actor=f"member:{voter.id}",
        action=AuditAction.ELECTION_VOTE_CAST,
        subject=f"election:{election.id}",
        at=at,
    )
    return ballot


def has_voted(session: Session, election: Election, member: Member) -> bool:
    return bool(
        session.scalar(
            select(ElectionVote.id).where(
                ElectionVote.election_id == election.id, ElectionVote.voter_id == member.id
            )
        )
    )


def counts(session: Session, election: Election) -> dict[int, int]:
    """Votes per candidate member id (every candidate listed, zero included)."""
    found = dict(
        session.execute(
            select(Candidate.member_id, func.count(ElectionVote.id))
            .outerjoin(ElectionVote, ElectionVote.candidate_id == Candidate.id)
            .where(Candidate.election_id == election.id)
            .group_by(Candidate.member_id)
        ).all()
    )
    return {int(m): int(n) for m, n in found.items()}


def _winners(
    session: Session, election: Election, tally: dict[int, int]
) -> tuple[list[int], dict[str, object] | None]:
    """The most votes win; candidates tied across the last seat are split by the bylaws' rule.
    Nobody with no vote at all wins a seat."""
    places = len(election.seat_numbers)
    ranked = sorted((m for m, n in tally.items() if n > 0), key=lambda m: -tally[m])
    if len(ranked) <= places:
        return ranked, None
    cutoff = tally[ranked[places - 1]]
    sure = [m for m in ranked if tally[m] > cutoff]
    tied = [m for m in ranked if tally[m] == cutoff]
    needed = places - len(sure)
    if len(tied) == needed:
        return sure + tied, None
    if TieBreak(election.tie_break) == TieBreak.SENIORITY:
        joined = {
            m.id: (m.created_at, m.id)
            for m in session.scalars(select(Member).where(Member.id.in_(tied)))
        }
        chosen = sorted(tied, key=lambda m: joined[m])[:needed]
    else:
        pool = list(tied)
        chosen = [pool.pop(secrets.randbelow(len(pool))) for _ in range(needed)]
    return sure + chosen, {"rule": election.tie_break, "tied": sorted(tied), "chosen": chosen}


def settle(session: Session, bylaws: Bylaws, election: Election, at: datetime) -> Election:
    """Close an election read after its window and seat the winners for their term."""
    if election.status != ElectionStatus.OPEN or at < election.closes_at:
        return election
    tally = counts(session, election)
    winners, tie = _winners(session, election, tally)
    election.status = ElectionStatus.CLOSED
    election.closed_at = election.closes_at
    election.result = {
        "counts": {str(m): n for m, n in tally.items()},
        "winners": winners,
        "tie": tie,
    }
    term_end = election.closes_at + timedelta(days=round(election.term_months * _DAYS_PER_MONTH))
    for number, member_id in zip(election.seat_numbers, winners, strict=False):
        member = session.get(Member, member_id)
        assert member is not None
        assign_seat(
            session,
            bylaws,
            member=member,
            member_class=election.member_class,
            number=number,
            actor=f"election:{election.id}",
            at=election.closes_at,
            term_end=term_end,
        )
    audit.record(
        session,
        actor="system",
        action=AuditAction.ELECTION_CLOSED,
        subject=f"election:{election.id}",
        at=at,
        details={"counts": election.result["counts"], "winners": winners, "tie": tie},
    )
    return election
