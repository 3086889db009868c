"""Closed proposals as public decision records (JSON-LD, signed by the web layer).

Each record states the kind, the asset, the recipient, the bylaws version and per-class rules
it was decided under, the per-class counts, the outcome, the close time, and the hash of the
audit entry that closed it (which commits to every ballot before it). Ballots stay unnamed
unless the bylaws say votes are public. Anyone can recount a record: `check_record` refuses one
whose outcome does not follow from its own counts and rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.models import BallotRow, Peer, Proposal, Seat, Transfer
from cltd.rules.bylaws import ClassRule, Comparison
from cltd.rules.tally import ClassCount, recount
from cltd.services.catalog import Trust, contexts
from cltd.services.governance import current_tally

PAGE_SIZE = 100


def record_iri(base: str, proposal_id: int) -> str:
    return f"{base}/federation/decisions/{proposal_id}"


def record(
    session: Session, trust: Trust, proposal: Proposal, *, votes_public: bool
) -> dict[str, Any]:
    rules = proposal.rules
    per_class = rules["classes"]
    assert isinstance(per_class, Mapping)
    result = current_tally(session, proposal)
    node: dict[str, Any] = {
        "@context": contexts(trust.base),
        "id": record_iri(trust.base, proposal.id),
        "type": "DecisionRecord",
        "publisher": trust.publisher(),
        "proposalKind": proposal.kind,
        "title": {"en": proposal.title},
        "bylawsVersion": rules.get("version"),
        "bylawsDigest": rules.get("digest"),
        "classResult": [
            {
                "memberClass": r.member_class,
                "seats": r.count.seats,
                "yesCount": r.count.yes,
                "noCount": r.count.no,
                "abstainCount": r.count.abstain,
                "notVoted": r.count.not_voted,
                "quorum": per_class[r.member_class]["quorum"],
                "threshold": per_class[r.member_class]["threshold"],
                "comparison": per_class[r.member_class]["comparison"],
                "passes": r.passed,
            }
            for r in result.classes
        ],
        "outcome": "passed" if result.passed else "rejected",
        "closedAt": proposal.closed_at.isoformat() if proposal.closed_at else None,
        "auditSeq": proposal.closed_seq,
        "auditHash": proposal.closed_hash,
    }
    if proposal.asset is not None:
        node["subject"] = f"{trust.base}/federation/datasets/{proposal.asset.slug}"
    if proposal.recipient:
        node["recipient"] = proposal.recipient
    if proposal.recipient_peer_id is not None:
        peer = session.get(Peer, proposal.recipient_peer_id)
        if peer is not None:
            node["recipientTrust"] = peer.origin + "/federation/trust"
    if proposal.transfer_pk is not None:
        incoming = session.get(Transfer, proposal.transfer_pk)
        if incoming is not None:
            node["subject"] = incoming.offer.get("dataset", {}).get("id")  # type: ignore[union-attr]
            node["transferId"] = incoming.transfer_id
    if votes_public:
        seats = {s.id: f"{s.member_class}:{s.number}" for s in session.scalars(select(Seat))}
        node["ballot"] = [
            {"seat": seats.get(b.seat_id, str(b.seat_id)), "choice": b.choice}
            for b in session.scalars(
                select(BallotRow).where(BallotRow.proposal_id == proposal.id).order_by(BallotRow.id)
            )
        ]
    return node


def page(
    session: Session, trust: Trust, *, since: int, limit: int, votes_public: bool
) -> dict[str, Any]:
    """Closed proposals after SINCE (the audit sequence of their closing), oldest first."""
    closed = list(
        session.scalars(
            select(Proposal)
            .where(Proposal.closed_seq.is_not(None), Proposal.closed_seq > since)
            .order_by(Proposal.closed_seq)
            .limit(limit + 1)
        )
    )
    more = len(closed) > limit
    closed = closed[:limit]
    cursor = closed[-1].closed_seq if closed else since
    document: dict[str, Any] = {
        "@context": contexts(trust.base),
        "id": f"{trust.base}/federation/decisions?since={since}",
        "type": "DecisionList",
        "publisher": trust.publisher(),
        "decision": [
            {
                k: v
                for k, v in record(session, trust, p, votes_public=votes_public).items()
                if k != "@context"
            }
            for p in closed
        ],
        "cursor": cursor,
    }
    if more:
        document["next"] = f"{trust.base}/federation/decisions?since={cursor}"
    return document


class RecountRefused(ValueError):
    """A decision record whose stated outcome does not follow from its own counts and rules."""


def check_record(node: Mapping[str, Any]) -> bool:
    """Recount a decision record: its outcome must follow from its per-class counts and rules,
    each class's stated `passes` too. Returns the outcome (True: passed); RecountRefused else."""
    try:
        classes = []
        for row in node["classResult"]:
            rule = ClassRule(
                Fraction(row["quorum"]), Fraction(row["threshold"]), Comparison(row["comparison"])
            )
            count = ClassCount(
                int(row["seats"]),
                int(row["yesCount"]),
                int(row["noCount"]),
                int(row["abstainCount"]),
            )
            if count.not_voted != int(row["notVoted"]) or count.not_voted < 0:
                raise RecountRefused(f"class {row['memberClass']}: the counts do not add up")
            if recount([(rule, count)]) != bool(row["passes"]):
                raise RecountRefused(
                    f"class {row['memberClass']}: its counts do not give the stated result"
                )
            classes.append((rule, count))
        names = [row["memberClass"] for row in node["classResult"]]
        if len(names) != 3 or len(set(names)) != 3:
            raise RecountRefused("a decision is taken by exactly three member classes")
        for rule, count in classes:
            if count.seats < 1 or not 0 < rule.quorum <= 1 or not 0 < rule.threshold <= 1:
                raise RecountRefused("a class has no seats, or a quorum or threshold out of range")
        stated = node["outcome"]
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
        if isinstance(error, RecountRefused):
            raise
        raise RecountRefused(f"the record cannot be recounted ({error})") from None
    outcome = recount(classes)
    if stated not in ("passed", "rejected") or (stated == "passed") != outcome:
        raise RecountRefused(
            f"the record says {stated!r}, but its counts and rules give "
            f"{'passed' if outcome else 'rejected'}"
        )
    return outcome
