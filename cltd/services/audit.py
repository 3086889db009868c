"""The hash-chained audit log (invariant 5).

Each entry's hash covers its sequence number, time, actor, action, subject, canonical details
and the previous entry's hash, so editing, deleting or reordering any entry breaks the chain at
that entry. Appends lock the single head row (SELECT ... FOR UPDATE on PostgreSQL; SQLite
writers are already serialised by BEGIN IMMEDIATE), so concurrent workers extend one linear
chain instead of forking it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.adapters.canonical import canonical_json, sha256_hex
from cltd.models import GENESIS_HASH, AuditEntry, AuditHead
from cltd.rules.codes import Code

HEAD_ID = 1


class AuditAction(StrEnum):
    TRUST_INITIALISED = "trust.initialised"
    BYLAWS_ADOPTED = "bylaws.adopted"
    MEMBER_ADDED = "member.added"
    MEMBER_LOCALE_CHANGED = "member.locale_changed"
    SIGNED_IN = "session.signed_in"
    SIGNED_OUT = "session.signed_out"
    SEAT_ASSIGNED = "seat.assigned"
    ASSET_CREATED = "asset.created"
    ASSET_DESCRIBED = "asset.described"
    KEK_ROTATED = "keys.kek_rotated"
    SIGNING_KEY_ROTATED = "keys.signing_rotated"
    PEER_KEY_ROTATED = "peer.key_rotated"
    RECORD_CONTRIBUTED = "record.contributed"
    RECORDS_IMPORTED = "records.imported"
    RECORDS_READ = "records.read"
    RECORDS_UNREADABLE = "records.unreadable"
    CONSENT_GRANTED = "consent.granted"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    ACCESS_REQUESTED = "access.requested"
    GRANT_ISSUED = "grant.issued"
    GRANT_REVOKED = "grant.revoked"
    MEMBER_ERASED = "member.erased"
    NOTICE_DELIVERED = "notice.delivered"
    PROPOSAL_DRAFTED = "proposal.drafted"
    PROPOSAL_OPENED = "proposal.opened"
    PROPOSAL_CLOSED = "proposal.closed"
    BALLOT_CAST = "ballot.cast"
    CUSTODY_CHANGED = "custody.changed"
    BYLAWS_AMENDED = "bylaws.amended"
    LICENCE_GRANTED = "licence.granted"
    ELECTION_CALLED = "election.called"
    CANDIDATE_ADDED = "election.candidate_added"
    ELECTION_VOTE_CAST = "election.vote_cast"
    ELECTION_CLOSED = "election.closed"
    PAYMENT_RECORDED = "ledger.payment_recorded"
    PEER_PINNED = "peer.pinned"
    PEER_SYNCED = "peer.synced"
    PEER_SYNC_REQUESTED = "peer.sync_requested"
    PEER_REFUSED = "peer.refused"
    TRANSFER_OFFERED = "transfer.offered"
    TRANSFER_RECEIVED = "transfer.received"
    TRANSFER_ACCEPTED = "transfer.accepted"
    TRANSFER_PACKAGE_SERVED = "transfer.package_served"
    TRANSFER_STAGED = "transfer.staged"
    TRANSFER_COMPLETED = "transfer.completed"
    TRANSFER_REFUSED = "transfer.refused"
    TRANSFER_EXPIRED = "transfer.expired"
    CLIENT_REGISTERED = "client.registered"
    CLIENT_DISABLED = "client.disabled"
    TOKEN_ISSUED = "token.issued"
    TOKEN_REVOKED = "token.revoked"
    TOKEN_FAMILY_REVOKED = "token.family_revoked"


def _format_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *, seq: int, at: datetime, actor: str, action: str, subject: str, details: str, prev_hash: str
) -> str:
    return sha256_hex(
        canonical_json(
            {
                "seq": seq,
                "at": _format_time(at),
                "actor": actor,
                "action": action,
                "subject": subject,
                "details": details,
                "prev_hash": prev_hash,
            }
        )
    )


def hash_of(entry: AuditEntry) -> str:
    """The hash an entry must carry, recomputed from what it says."""
    return entry_hash(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        subject=entry.subject,
        details=entry.details,
        prev_hash=entry.prev_hash,
    )


def record(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    subject: str,
    at: datetime,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction; it commits or rolls back with the change."""
    head = session.execute(
        select(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    at = at.astimezone(UTC)  # microsecond precision survives both engines, so the hash holds
    details_text = canonical_json(dict(details or {})).decode("utf-8")
    seq = head.seq + 1
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action.value,
        subject=subject,
        details=details_text,
        prev_hash=head.hash,
    )
    entry.hash = hash_of(entry)
    session.add(entry)
    head.seq = seq
    head.hash = entry.hash
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    code: Code
    params: Mapping[str, object]


@dataclass(frozen=True)
class ChainReport:
    checked: int
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def count_entries(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def _entries(session: Session, batch: int) -> Iterator[AuditEntry]:
    """Stream entries in order (a server-side cursor on PostgreSQL), closed however we stop."""
    result = session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    )
    try:
        yield from result
    finally:
        result.close()


def verify_chain(
    session: Session, *, progress: Callable[[int], None] | None = None, batch: int = 1000
) -> ChainReport:
    """Recompute the whole chain and name the first entry that does not hold."""
    entries = _entries(session, batch)
    try:
        found = _first_problem(entries, progress)
    finally:
        entries.close()  # type: ignore[attr-defined]
    checked, last_seq, last_hash, problem = found
    if problem is not None:
        return ChainReport(checked, problem)
    head = session.get(AuditHead, HEAD_ID)
    if head is None or head.seq != last_seq or head.hash != last_hash:
        head_seq = head.seq if head is not None else 0
        return ChainReport(
            checked,
            ChainProblem(
                last_seq + 1, Code.AUDIT_TAIL_REMOVED, {"last": last_seq, "head": head_seq}
            ),
        )
    return ChainReport(checked, None)


def _first_problem(
    entries: Iterator[AuditEntry], progress: Callable[[int], None] | None
) -> tuple[int, int, str, ChainProblem | None]:
    """Walk the entries in order: (checked, last seq, last hash, first problem or None)."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for entry in entries:
        problem: ChainProblem | None = None
        if entry.seq != expected_seq:
            problem = ChainProblem(
                expected_seq,
                Code.AUDIT_ENTRY_MISSING,
                {"seq": expected_seq, "before": expected_seq - 1, "after": entry.seq},
            )
        elif entry.hash != hash_of(entry):
            problem = ChainProblem(entry.seq, Code.AUDIT_ENTRY_ALTERED, {"seq": entry.seq})
        elif entry.prev_hash != prev_hash:
            problem = ChainProblem(entry.seq, Code.AUDIT_LINK_BROKEN, {"seq": entry.seq})
        if problem is not None:
            return checked, expected_seq - 1, prev_hash, problem
        prev_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
        if progress is not None:
            progress(1)
    return checked, expected_seq - 1, prev_hash, None
