"""The audit log: appends form one chain; any edit, deletion or reordering is found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from cltd.models import AuditEntry, AuditHead
from cltd.rules.codes import Code
from cltd.services import audit
from cltd.services.audit import AuditAction, verify_chain

T0 = datetime(2026, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _append(session: Session, n: int) -> list[AuditEntry]:
    entries = [
        audit.record(
            session,
            actor=f"member:{i}",
            action=AuditAction.MEMBER_ADDED,
            subject=f"member:{i}",
            at=T0 + timedelta(seconds=i),
            details={"i": i, "ü": "ø"},
        )
        for i in range(n)
    ]
    session.commit()
    return entries


def test_entries_link_into_one_chain_that_verifies(db_session: Session) -> None:
    entries = _append(db_session, 5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in pairwise(entries))
    report = verify_chain(db_session)
    assert report.ok and report.checked == 5


def test_details_are_stored_as_canonical_json(db_session: Session) -> None:
    entry = audit.record(
        db_session,
        actor="x",
        action=AuditAction.MEMBER_ADDED,
        subject="s",
        at=T0,
        details={"b": 1, "a": [True, None, 1.5]},
    )
    assert entry.details == '{"a":[true,null,1.5],"b":1}'


def test_time_survives_the_database_exactly(db_session: Session) -> None:
    _append(db_session, 1)
    db_session.expire_all()
    stored = db_session.scalar(select(AuditEntry).where(AuditEntry.seq == 1))
    assert stored is not None and stored.at == T0 and stored.at.tzinfo is not None


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "code"),
    [
        ("UPDATE audit_entries SET details = '[99]' WHERE seq = 3", 3, Code.AUDIT_ENTRY_ALTERED),
        (
            "UPDATE audit_entries SET actor = 'member:666' WHERE seq = 2",
            2,
            Code.AUDIT_ENTRY_ALTERED,
        ),
        ("DELETE FROM audit_entries WHERE seq = 3", 3, Code.AUDIT_ENTRY_MISSING),
        ("DELETE FROM audit_entries WHERE seq = 5", 5, Code.AUDIT_TAIL_REMOVED),
        ("DELETE FROM audit_entries WHERE seq = 1", 1, Code.AUDIT_ENTRY_MISSING),
    ],
)
def test_tampering_names_the_first_bad_entry(
    db_session: Session, tamper: str, bad_seq: int, code: Code
) -> None:
    _append(db_session, 5)
    db_session.execute(text(tamper))
    report = verify_chain(db_session)
    assert not report.ok
    assert report.problem is not None
    assert (report.problem.seq, report.problem.code) == (bad_seq, code)


def test_reordering_two_entries_is_found(db_session: Session) -> None:
    entries = _append(db_session, 4)
    second, third = entries[1], entries[2]
    # Swap the contents of entries 2 and 3 but keep their places and hashes consistent
    # with their new contents: only the chain links can reveal the swap.
    for target, source in ((2, third), (3, second)):
        db_session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == target)
            .values(
                actor=source.actor,
                subject=source.subject,
                details=source.details,
                at=source.at,
                hash=audit.entry_hash(
                    seq=target,
                    at=source.at,
                    actor=source.actor,
                    action=source.action,
                    subject=source.subject,
                    details=source.details,
                    prev_hash=source.prev_hash,
                ),
                prev_hash=source.prev_hash,
            )
        )
    report = verify_chain(db_session)
    assert report.problem is not None
    assert report.problem.seq == 2
    assert report.problem.code == Code.AUDIT_LINK_BROKEN


def test_the_head_follows_the_newest_entry(db_session: Session) -> None:
    entries = _append(db_session, 3)
    head = db_session.get(AuditHead, 1)
    assert head is not None and (head.seq, head.hash) == (3, entries[-1].hash)


def test_an_empty_log_verifies(db_session: Session) -> None:
    assert verify_chain(db_session).ok
