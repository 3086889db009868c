"""Board proposals (invariants 3 and 4): opened with the seat holders of that moment as the
electorate and the bylaws' rules frozen, one ballot per seat (changeable until the close),
closed when read after the deadline (no scheduler), executed through custody alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from types import MappingProxyType

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.models import (
    UNDECIDED,
    AccessRequest,
    Asset,
    AssetStatus,
    AuditEntry,
    BallotRow,
    Direction,
    ElectorateSeat,
    Member,
    Peer,
    Proposal,
    ProposalStatus,
    RequestStatus,
    Seat,
    Transfer,
    TransferState,
)
from cltd.rules.bylaws import (
    Acceptor,
    Bylaws,
    BylawsError,
    ClassRule,
    Comparison,
    DecisionRule,
    ProposalKind,
    parse_bylaws,
)
from cltd.rules.codes import Code
from cltd.rules.roles import Role
from cltd.rules.tally import Ballot, Tally, count_ballots, settled_outcome, tally
from cltd.services import audit
from cltd.services.audit import AuditAction
from cltd.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from cltd.services.members import roles_of

_ASSET_KINDS = (
    ProposalKind.TRANSFER,
    ProposalKind.LICENCE,
    ProposalKind.RETIRE,
    ProposalKind.LIFT_LOCK,
)


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


def check_amendment(bylaws: Bylaws, text: str) -> Bylaws:
    """The proposed bylaws, checked exactly as `cltd bylaws check` would, against the purposes
    in force (an amendment changes the rules, not the taxonomy file)."""
    if not text.strip():
        raise InvalidInput(Code.BYLAWS_TEXT_REQUIRED, "bylaws_text")
    try:
        return parse_bylaws(text, source="proposed bylaws", taxonomy=bylaws.taxonomy)
    except BylawsError as error:
        raise InvalidInput(
            Code.BYLAWS_TEXT_INVALID, "bylaws_text", {"problem": f"{error.key}: {error.problem}"}
        ) from None


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
    access_request_id: int | None = None,
    bylaws_text: str | None = None,
    recipient_peer_id: int | None = None,
    transfer_pk: int | None = None,
) -> Proposal:
    """Draft a proposal (a seat holder or a steward). A locked asset cannot even be proposed
    for a recipient that is not asset-locked (invariant 3): lifting the lock is its own
    proposal, with its higher bar."""
    if not roles_of(session, author, at) & {Role.BOARD, Role.STEWARD}:
        raise Forbidden(Code.BOARD_ONLY, "author")
    if not title.strip():
        raise InvalidInput(Code.PROPOSAL_TITLE_REQUIRED, "title")
    request = incoming = None
    if kind == ProposalKind.LICENCE:
        request = _pending_request(session, access_request_id)
        asset = request.asset
        recipient = request.client.name
    if kind in _ASSET_KINDS:
        if asset is None:
            raise InvalidInput(Code.ASSET_UNKNOWN, "asset_id")
        if asset.status != AssetStatus.HELD:
            raise Conflict(Code.ASSET_NOT_HELD, "asset_id")
    if kind == ProposalKind.TRANSFER and recipient_peer_id is not None:
        # A trust we pin: its own signed description says whether it is asset-locked.
        peer = session.get(Peer, recipient_peer_id)
        if peer is None:
            raise InvalidInput(Code.PEER_UNKNOWN, "recipient_peer_id")
        recipient, recipient_locked = peer.name, peer.description.get("assetLocked") is True
        if asset is not None and asset.locked and not recipient_locked:
            raise Forbidden(Code.PEER_NOT_LOCKED, "recipient_peer_id")
    if kind == ProposalKind.TRANSFER:
        if not (recipient or "").strip():
            raise InvalidInput(Code.RECIPIENT_REQUIRED, "recipient")
        if asset is not None and asset.locked and not recipient_locked:
            raise Forbidden(Code.LOCKED_ASSET_UNLOCKED_RECIPIENT, "recipient_locked")
    if kind == ProposalKind.ACCEPT_ASSET:
        incoming = _open_offer(session, bylaws, transfer_pk, at)
        recipient = None
    if kind == ProposalKind.LIFT_LOCK and asset is not None and not asset.locked:
        raise Conflict(Code.ASSET_NOT_LOCKED, "asset_id")
    if kind == ProposalKind.AMEND_BYLAWS:
        check_amendment(bylaws, bylaws_text or "")
    proposal = Proposal(
        kind=kind.value,
        title=title.strip(),
        text=text.strip(),
        asset_id=asset.id if asset is not None and kind in _ASSET_KINDS else None,
        recipient=(recipient or "").strip() or None
        if kind in (ProposalKind.TRANSFER, ProposalKind.LICENCE)
        else None,
        recipient_locked=recipient_locked if kind == ProposalKind.TRANSFER else False,
        access_request_id=request.id if request is not None else None,
        bylaws_text=bylaws_text if kind == ProposalKind.AMEND_BYLAWS else None,
        recipient_peer_id=recipient_peer_id if kind == ProposalKind.TRANSFER else None,
        transfer_pk=incoming.id if kind == ProposalKind.ACCEPT_ASSET else None,
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
        details={
            "kind": kind.value,
            "asset": proposal.asset_id,
            "recipient": proposal.recipient,
            "access_request": proposal.access_request_id,
        },
    )
    return proposal


def _open_offer(
    session: Session, bylaws: Bylaws, transfer_pk: int | None, at: datetime
) -> Transfer:
    """An offer from another trust, still open, that our bylaws give the board to decide."""
    transfer = session.get(Transfer, transfer_pk) if transfer_pk is not None else None
    if transfer is None or transfer.direction != Direction.INCOMING:
        raise InvalidInput(Code.TRANSFER_UNKNOWN, "transfer")
    if transfer.state != TransferState.OFFERED or transfer.expires_at <= at:
        raise Conflict(Code.TRANSFER_NOT_OPEN, "transfer")
    if bylaws.transfers.incoming != Acceptor.BOARD:
        raise Forbidden(Code.TRANSFER_STEWARD_DECIDES, "transfer")
    pending = session.scalar(
        select(Proposal.id).where(
            Proposal.transfer_pk == transfer.id,
            Proposal.status.in_(UNDECIDED),
        )
    )
    if pending is not None:
        raise Conflict(Code.TRANSFER_ALREADY_PROPOSED, "transfer", {"proposal": pending})
    return transfer


def _pending_request(session: Session, request_id: int | None) -> AccessRequest:
    request = session.get(AccessRequest, request_id) if request_id is not None else None
    if request is None:
        raise InvalidInput(Code.ACCESS_REQUEST_UNKNOWN, "access_request_id")
    if request.status != RequestStatus.PENDING:
        raise Conflict(Code.ACCESS_REQUEST_NOT_PENDING, "access_request_id")
    return request


def pending_requests(session: Session) -> list[AccessRequest]:
    """Access requests for a board-review purpose, waiting for a licence proposal."""
    return list(
        session.scalars(
            select(AccessRequest)
            .where(AccessRequest.status == RequestStatus.PENDING)
            .order_by(AccessRequest.id)
        )
    )


def open_voting(
    session: Session,
    bylaws: Bylaws,
    proposal: Proposal,
    *,
    actor: str,
    at: datetime,
    by: Member | None = None,
) -> Proposal:
    """Freeze the electorate (the seat holders now) and the rules, and start the window.
    BY, when given, must be the proposal's author or a steward."""
    if by is not None and by.id != proposal.created_by and not by.is_steward:
        raise Forbidden(Code.PROPOSAL_NOT_YOURS, "proposal_id")
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
    settle(session, proposal, at)
    return ballot


def current_tally(session: Session, proposal: Proposal) -> Tally:
    seats = proposal.rules.get("seats", {})
    assert isinstance(seats, dict)
    ballots = session.scalars(select(BallotRow).where(BallotRow.proposal_id == proposal.id))
    counts = count_ballots(
        {c: int(n) for c, n in seats.items()}, [(b.member_class, Ballot(b.choice)) for b in ballots]
    )
    return tally(decision_rule(proposal), counts)


def remaining_seats(session: Session, proposal: Proposal) -> dict[str, int]:
    """Per class, the seats in the electorate (held at opening) that have not voted yet."""
    voted = set(
        session.scalars(select(BallotRow.seat_id).where(BallotRow.proposal_id == proposal.id))
    )
    left: dict[str, int] = {}
    for seat in session.scalars(
        select(ElectorateSeat).where(ElectorateSeat.proposal_id == proposal.id)
    ):
        if seat.holder_id is not None and seat.seat_id not in voted:
            left[seat.member_class] = left.get(seat.member_class, 0) + 1
    return left


def outcome_now(session: Session, proposal: Proposal, at: datetime) -> tuple[str, Tally | None]:
    """The status a reader sees at AT, without writing: an open proposal past its deadline, or
    one no remaining ballot can change, reads as passed or rejected."""
    if proposal.status == ProposalStatus.DRAFT:
        return proposal.status, None
    result = current_tally(session, proposal)
    if proposal.status != ProposalStatus.OPEN:
        return proposal.status, result
    decided: bool | None
    if proposal.closes_at is not None and at >= proposal.closes_at:
        decided = result.passed
    else:
        decided = settled_outcome(
            decision_rule(proposal),
            {r.member_class: r.count for r in result.classes},
            remaining_seats(session, proposal),
        )
    if decided is None:
        return proposal.status, result
    return (ProposalStatus.PASSED if decided else ProposalStatus.REJECTED), result


def settle(session: Session, proposal: Proposal, at: datetime) -> Proposal:
    """Close an open proposal whose window has passed, or that no remaining ballot can change
    (evaluated when read or voted on: no scheduler)."""
    if proposal.status != ProposalStatus.OPEN:
        return proposal  # nothing to settle, and no tally to count
    status, result = outcome_now(session, proposal, at)
    if status != ProposalStatus.OPEN:
        assert result is not None and proposal.closes_at is not None
        # A caller reads its clock before it waits for the proposal's lock, so AT can be
        # earlier than a ballot counted just before it: a proposal never closes before a
        # ballot it counts.
        last_ballot = session.scalar(
            select(func.max(BallotRow.cast_at)).where(BallotRow.proposal_id == proposal.id)
        )
        closing_at = max(at, last_ballot) if last_ballot is not None else at
        proposal.status = status
        proposal.closed_at = min(closing_at, proposal.closes_at)
        closing = audit.record(
            session,
            actor="system",
            action=AuditAction.PROPOSAL_CLOSED,
            subject=f"proposal:{proposal.id}",
            at=closing_at,
            details={
                "outcome": proposal.status,
                "early": proposal.closed_at < proposal.closes_at,
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
        proposal.closed_seq, proposal.closed_hash = closing.seq, closing.hash
    return proposal


def list_proposals(session: Session) -> list[Proposal]:
    return list(session.scalars(select(Proposal).order_by(Proposal.id.desc())))


def get_proposal(session: Session, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(Code.PROPOSAL_UNKNOWN, "proposal_id")
    return proposal


def seat_of(session: Session, proposal: Proposal, member: Member) -> ElectorateSeat | None:
    return session.scalar(
        select(ElectorateSeat).where(
            ElectorateSeat.proposal_id == proposal.id, ElectorateSeat.holder_id == member.id
        )
    )


def ballot_of(session: Session, proposal: Proposal, member: Member) -> str | None:
    seat = seat_of(session, proposal, member)
    if seat is None:
        return None
    return session.scalar(
        select(BallotRow.choice).where(
            BallotRow.proposal_id == proposal.id, BallotRow.seat_id == seat.seat_id
        )
    )


def asset_history(session: Session, asset_id: int) -> tuple[list[Proposal], list[AuditEntry]]:
    """What happened to an asset: the proposals about it and the audit entries naming it or
    them, oldest first (the asset's own page shows custody moving only by decisions). An asset
    that came from another trust also has the offer it came with and the board's decision."""
    incoming = list(
        session.scalars(
            select(Transfer).where(
                Transfer.asset_id == asset_id, Transfer.direction == Direction.INCOMING
            )
        )
    )
    proposals = list(
        session.scalars(
            select(Proposal)
            .where(
                (Proposal.asset_id == asset_id) | Proposal.transfer_pk.in_([t.id for t in incoming])
            )
            .order_by(Proposal.id)
        )
    )
    subjects = (
        [f"asset:{asset_id}"]
        + [f"proposal:{p.id}" for p in proposals]
        + [f"transfer:{t.transfer_id}" for t in incoming]
    )
    entries = list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.subject.in_(subjects)).order_by(AuditEntry.seq)
        )
    )
    return proposals, entries


def named_ballots(session: Session, proposal: Proposal) -> list[tuple[str, int, str]]:
    """(class, seat number, choice) of each ballot: shown only where the bylaws make votes
    public."""
    rows = session.execute(
        select(Seat.member_class, Seat.number, BallotRow.choice)
        .join(Seat, Seat.id == BallotRow.seat_id)
        .where(BallotRow.proposal_id == proposal.id)
        .order_by(Seat.member_class, Seat.number)
    ).all()
    return [(str(c), int(n), str(choice)) for c, n, choice in rows]
