"""What a reader sees of a proposal or an election: the status evaluated now (a deadline needs
no scheduler), the per-class tallies against quorum and threshold, time left, and whether the
reader may vote. Shared by the board pages and the API, so both always say the same."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from math import ceil
from typing import Any

from sqlalchemy.orm import Session

from cltd.models import Election, Member, Proposal, ProposalStatus
from cltd.rules.bylaws import Comparison
from cltd.services import elections as election_service
from cltd.services import governance


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def proposal_view(
    session: Session, proposal: Proposal, reader: Member | None, at: datetime
) -> dict[str, Any]:
    status, result = governance.outcome_now(session, proposal, at)
    rules = proposal.rules or {}
    classes = []
    if result is not None:
        per_class = rules.get("classes", {})
        assert isinstance(per_class, dict)
        for r in result.classes:
            rule = per_class[r.member_class]
            quorum, threshold = Fraction(rule["quorum"]), Fraction(rule["threshold"])
            decided = r.count.yes + r.count.no
            classes.append(
                {
                    "member_class": r.member_class,
                    "seats": r.count.seats,
                    "yes": r.count.yes,
                    "no": r.count.no,
                    "abstain": r.count.abstain,
                    "not_voted": r.count.not_voted,
                    "quorum": str(quorum),
                    "quorum_ballots": ceil(quorum * r.count.seats),
                    "threshold": str(threshold),
                    "comparison": rule["comparison"],
                    "at_least": rule["comparison"] == Comparison.AT_LEAST.value,
                    "turnout_percent": _share(r.count.cast, r.count.seats),
                    "quorum_percent": float(round(100 * quorum, 1)),
                    "yes_percent": _share(r.count.yes, decided),
                    "threshold_percent": float(round(100 * threshold, 1)),
                    "quorum_met": r.quorum_met,
                    "threshold_met": r.threshold_met,
                    "passes": r.passed,
                }
            )
    open_now = status == ProposalStatus.OPEN
    seat = governance.seat_of(session, proposal, reader) if reader is not None else None
    return {
        "id": proposal.id,
        "kind": proposal.kind,
        "title": proposal.title,
        "text": proposal.text,
        "status": status,
        "asset_id": proposal.asset_id,
        "recipient": proposal.recipient,
        "recipient_locked": proposal.recipient_locked,
        "recipient_peer_id": proposal.recipient_peer_id,
        "transfer_pk": proposal.transfer_pk,
        "access_request_id": proposal.access_request_id,
        "bylaws_text": proposal.bylaws_text,
        "created_by": proposal.created_by,
        "created_at": proposal.created_at.isoformat(),
        "opened_at": proposal.opened_at.isoformat() if proposal.opened_at else None,
        "closes_at": proposal.closes_at.isoformat() if proposal.closes_at else None,
        "closed_at": proposal.closed_at.isoformat() if proposal.closed_at else None,
        "executed_at": proposal.executed_at.isoformat() if proposal.executed_at else None,
        "seconds_left": (
            max(0, int((proposal.closes_at - at).total_seconds()))
            if open_now and proposal.closes_at
            else None
        ),
        "rules": {"version": rules.get("version"), "digest": rules.get("digest")}
        if rules
        else None,
        "tally": classes,
        "passes_so_far": bool(result and result.passed),
        "may_vote": open_now and seat is not None,
        "my_ballot": governance.ballot_of(session, proposal, reader) if reader else None,
    }


def election_view(
    session: Session, election: Election, reader: Member | None, at: datetime
) -> dict[str, Any]:
    counts = election_service.counts(session, election)
    closed = election.status != "open" or at >= election.closes_at
    show_counts = closed
    candidates = [
        {
            "id": c.id,
            "member_id": c.member_id,
            "name": c.member.display_name,
            "statement": c.statement,
            "votes": counts.get(c.member_id, 0) if show_counts else None,
            "elected": c.member_id in (election.result or {}).get("winners", []),
        }
        for c in election_service.candidates(session, election)
    ]
    voting = not closed and at >= election.opens_at
    voted = reader is not None and election_service.has_voted(session, election, reader)
    return {
        "id": election.id,
        "member_class": election.member_class,
        "seat_numbers": election.seat_numbers,
        "term_months": election.term_months,
        "status": "closed" if closed else ("open" if voting else "upcoming"),
        "opens_at": election.opens_at.isoformat(),
        "closes_at": election.closes_at.isoformat(),
        "tie_break": election.tie_break,
        "tie": (election.result or {}).get("tie"),
        "candidates": candidates,
        "may_vote": bool(
            voting
            and reader is not None
            and reader.member_class == election.member_class
            and not voted
        ),
        "voted": voted,
    }
