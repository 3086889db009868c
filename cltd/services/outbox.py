"""The outbox: jobs written in the same transaction as the change that needs them, done later
by `cltd worker`. Any number of workers on any number of hosts share it: a job is claimed with
FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite's writers are serialised) and leased for a while,
so no two workers do it at once, and a worker that dies leaves it to be claimed again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.models import OutboxJob, OutboxStatus
from cltd.services import audit
from cltd.services.audit import AuditAction

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    target: str
    payload: dict[str, object]
    attempts: int


def claim(session: Session, at: datetime, *, limit: int = 20) -> list[Claimed]:
    jobs = session.scalars(
        select(OutboxJob)
        .where(OutboxJob.status == OutboxStatus.PENDING, OutboxJob.next_attempt_at <= at)
        .order_by(OutboxJob.next_attempt_at, OutboxJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for job in jobs:
        job.next_attempt_at = at + LEASE  # leased: invisible to other workers until then
    return [Claimed(j.id, j.kind, j.target, dict(j.payload), j.attempts) for j in jobs]


def backoff(attempts: int) -> timedelta:
    return FIRST_RETRY * (2 ** max(0, attempts - 1))


def settle(session: Session, job_id: int, error: str | None, at: datetime) -> None:
    """Record how one delivery went: done, retried later with backoff, or given up."""
    job = session.get(OutboxJob, job_id)
    if job is None or job.status != OutboxStatus.PENDING:
        return
    job.attempts += 1
    if error is None:
        job.status, job.delivered_at, job.last_error = OutboxStatus.DELIVERED, at, None
        audit.record(
            session,
            actor="system:worker",
            action=AuditAction.NOTICE_DELIVERED,
            subject=f"outbox:{job.id}",
            at=at,
            details={"kind": job.kind},
        )
        return
    job.last_error = error[:500]
    if job.attempts >= MAX_ATTEMPTS:
        job.status = OutboxStatus.DEAD
    else:
        job.next_attempt_at = at + backoff(job.attempts)


def run_once(
    sessions: Callable[[], Session],
    deliver: Callable[[Claimed], str | None],
    now: Callable[[], datetime],
) -> int:
    """Claim due jobs, do them outside any transaction, record each result. Returns how many."""
    session = sessions()
    try:
        claimed = claim(session, now())
        session.commit()
    finally:
        session.close()
    for job in claimed:
        error = deliver(job)
        session = sessions()
        try:
            settle(session, job.id, error, now())
            session.commit()
        finally:
            session.close()
    return len(claimed)
