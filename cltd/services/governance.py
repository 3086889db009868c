"""Board proposals (invariants 3 and 4): opened with the seat holders of that moment as the
electorate and the bylaws' rules frozen, one ballot per seat (changeable until the close),
closed when read after the deadline (no scheduler), executed through custody alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.models import Asset, BallotRow, ElectorateSeat, Member, Proposal, ProposalStatus, Seat
from cltd.rules.bylaws import Bylaws, ClassRule, Comparison, DecisionRule, ProposalKind
from cltd.rules.codes import Code
from cltd.rules.tally import Ballot, Tally, count_ballots, tally
from cltd.services import audit
from cltd.services.audit import AuditAction
from cltd.services.errors import Conflict, Forbidden, InvalidInput, NotFound


def _frozen_rules(bylaws: Bylaws, kind: ProposalKind) -> dict[str, object]:
    rule = bylaws.decisions[kind]
    return {
        "version": bylaws.version,
        "digest": bylaws.digest,
        "voting_days": rule.voting_days,
        "classes": {
            c: {
                "quorum": str(r.quorum),
                "threshold": str(r.threshold),
                "comparison": r.comparison.value,
            }
            for c, r in rule.per_class.items()
        },
        "seats": {c.key: c.seats for c in bylaws.classes},
    }


def decision_rule(proposal: Proposal) -> DecisionRule:
    """The rule a proposal is decided under: the one frozen when it opened."""
    classes = proposal.rules["classes"]
    assert isinstance(classes, dict)
    return DecisionRule(
        ProposalKind(proposal.kind),
        int(proposal.rules["voting_days"]),  # type: ignore[arg-type]
        MappingProxyType(
            {
                c: ClassRule(
                    Fraction(r["quorum"]), Fraction(r["threshold"]), Comparison(r["comparison"])
                )
                for c, r in classes.items()
            }
        ),
    )


def propose(
    session: Session,
    bylaws: Bylaws,
    *,
    author: Member,
    kind: ProposalKind,
    title: str,
    text: str,
    at: datetime,
    asset: Asset | None = None,
    recipient: str | None = None,
    recipient_locked: bool = False,
) -> Proposal:
    """Draft a proposal. A locked asset cannot even be proposed for a recipient that is not
    asset-locked (invariant 3): lifting the lock is its own proposal, with its higher bar."""
    if not title.strip():
        raise InvalidInput(Code.PROPOSAL_TITLE_REQUIRED, "title")
    if (
        kind
        in (
            ProposalKind.TRANSFER,
            ProposalKind.LICENCE,
            ProposalKind.RETIRE,
            ProposalKind.LIFT_LOCK,
        )
        and asset is None
    ):
        raise InvalidInput(Code.ASSET_UNKNOWN, "asset_id")
    if kind == ProposalKind.TRANSFER:
        if not (recipient or "").strip():
            raise InvalidInput(Code.RECIPIENT_REQUIRED, "recipient")
        if asset is not None and asset.locked and not recipient_locked:
            raise Forbidden(Code.LOCKED_ASSET_UNLOCKED_RECIPIENT, "recipient_locked")
    proposal = Proposal(
        kind=kind.value,
        title=title.strip(),
        text=text.strip(),
        asset_id=asset.id if asset is not None else None,
        recipient=recipient,
        recipient_locked=recipient_locked,
        status=ProposalStatus.DRAFT,
        rules={},
        created_by=author.id,
        created_at=at,
    )
    session.add(proposal)
    session.flush()
    audit.record(
        session,
        actor=f"member:{author.id}",
        action=AuditAction.PROPOSAL_DRAFTED,
        subject=f"proposal:{proposal.id}",
        at=at,
        details={"kind": kind.value, "asset": proposal.asset_id, "recipient": recipient},
    )
    return proposal


def open_voting(
    session: Session, bylaws: Bylaws, proposal: Proposal, *, actor: str, at: datetime
) -> Proposal:
    """Freeze the electorate (the seat holders now) and the rules, and start the window."""
    if proposal.status != ProposalStatus.DRAFT:
        raise Conflict(Code.PROPOSAL_NOT_DRAFT, "status")
    kind = ProposalKind(proposal.kind)
    proposal.rules = _frozen_rules(bylaws, kind)
    proposal.status = ProposalStatus.OPEN
    proposal.opened_at = at
    proposal.closes_at = at + timedelta(days=bylaws.decisions[kind].voting_days)
    for seat in session.scalars(select(Seat).order_by(Seat.member_class, Seat.number)):
        holder = seat.holder_id if seat.held_by_at(seat.holder_id or -1, at) else None
        session.add(
            ElectorateSeat(
                proposal_id=proposal.id,
                seat_id=seat.id,
                member_class=seat.member_class,
                holder_id=holder,
            )
        )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PROPOSAL_OPENED,
        subject=f"proposal:{proposal.id}",
        at=at,
        details={"closes_at": proposal.closes_at.isoformat(), "bylaws": proposal.rules["digest"]},
    )
    return proposal


def get_locked(session: Session, proposal_id: int) -> Proposal:
    proposal = session.scalar(select(Proposal).where(Proposal.id == proposal_id).with_for_update())
    if proposal is None:
        raise NotFound(Code.PROPOSAL_UNKNOWN, "proposal_id")
    return proposal


def cast(
    session: Session, proposal_id: int, *, member: Member, choice: Ballot, at: datetime
) -> BallotRow:
    """One ballot per seat, changeable until the close; the proposal row is locked, so a
    ballot and the close are ordered (nothing counts after the close)."""
    proposal = settle(session, get_locked(session, proposal_id), at)
    if proposal.status != ProposalStatus.OPEN:
        raise Conflict(Code.PROPOSAL_CLOSED, "proposal_id")
    seat = session.scalar(
        select(ElectorateSeat).where(
            ElectorateSeat.proposal_id == proposal.id, ElectorateSeat.holder_id == member.id
        )
    )
    if seat is None:
        raise Forbidden(Code.NOT_IN_ELECTORATE, "member")
    ballot = session.scalar(
        select(BallotRow).where(
            BallotRow.proposal_id == proposal.id, BallotRow.seat_id == seat.seat_id
        )
    )
    previous = ballot.choice if ballot is not None else None
    if ballot is None:
        ballot = BallotRow(
            proposal_id=proposal.id,
            seat_id=seat.seat_id,
            member_class=seat.member_class,
            choice=choice.value,
            cast_at=at,
        )
        session.add(ballot)
    else:
        ballot.choice, ballot.cast_at = choice.value, at
    session.flush()
    audit.record(
        session,
        actor=f"member:{member.id}",
        action=AuditAction.BALLOT_CAST,
        subject=f"proposal:{proposal.id}",
        at=at,
        details={
            "seat": seat.seat_id,
            "class": seat.member_class,
            "choice": choice.value,
            "previous": previous,
        },
    )
    return ballot


def current_tally(session: Session, proposal: Proposal) -> Tally:
    seats = proposal.rules.get("seats", {})
    assert isinstance(seats, dict)
    ballots = session.scalars(select(BallotRow).where(BallotRow.proposal_id == proposal.id))
    counts = count_ballots(
        {c: int(n) for c, n in seats.items()}, [(b.member_class, Ballot(b.choice)) for b in ballots]
    )
    return tally(decision_rule(proposal), counts)


def settle(session: Session, proposal: Proposal, at: datetime) -> Proposal:
    """Close an open proposal whose window has passed (evaluated when read: no scheduler)."""
    if proposal.status == ProposalStatus.OPEN and proposal.closes_at and at >= proposal.closes_at:
        result = current_tally(session, proposal)
        proposal.status = ProposalStatus.PASSED if result.passed else ProposalStatus.REJECTED
        proposal.closed_at = proposal.closes_at
        audit.record(
            session,
            actor="system",
            action=AuditAction.PROPOSAL_CLOSED,
            subject=f"proposal:{proposal.id}",
            at=at,
            details={
                "outcome": proposal.status,
                "classes": {
                    r.member_class: {
                        "seats": r.count.seats,
                        "yes": r.count.yes,
                        "no": r.count.no,
                        "abstain": r.count.abstain,
                    }
                    for r in result.classes
                },
            },
        )
    return proposal
