"""The outbox: jobs written in the same transaction as the change that needs them, done later
by `cltd worker`. Any number of workers on any number of hosts share it: a job is claimed with
FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite's writers are serialised) and leased for a while,
so no two workers do it at once, and a worker that dies leaves it to be claimed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.models import OutboxJob, OutboxStatus
from cltd.services import audit
from cltd.services.audit import AuditAction

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
TRANSFER_LEASE = timedelta(minutes=15)
NEVER_GIVEN_UP = "transfer."


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    target: str
    payload: dict[str, object]
    attempts: int


def enqueue(
    session: Session,
    kind: str,
    target: str,
    payload: dict[str, object],
    at: datetime,
    *,
    member_id: int | None = None,
) -> None:
    """Queue a job in the caller's transaction: it is done only if the change commits."""
    session.add(
        OutboxJob(
            kind=kind,
            target=target,
            payload=payload,
            member_id=member_id,
            next_attempt_at=at,
            created_at=at,
        )
    )


def claim(session: Session, at: datetime, *, limit: int = 20) -> list[Claimed]:
    jobs = session.scalars(
        select(OutboxJob)
        .where(OutboxJob.status == OutboxStatus.PENDING, OutboxJob.next_attempt_at <= at)
        .order_by(OutboxJob.next_attempt_at, OutboxJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for job in jobs:
        # Leased: invisible to other workers until then. A transfer's step may move a whole
        # asset's records, so it holds its lease for longer.
        job.next_attempt_at = at + (
            TRANSFER_LEASE if job.kind.startswith(NEVER_GIVEN_UP) else LEASE
        )
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
    if job.kind.startswith(NEVER_GIVEN_UP):
        # A transfer half done must be finished, however long the other trust is away:
        # given up, it could leave an asset on offer for good, or with neither trust.
        job.next_attempt_at = at + min(backoff(job.attempts), LONGEST_WAIT)
    elif job.attempts >= MAX_ATTEMPTS:
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
        try:
            error = deliver(job)
        # One job that fails in a way no one foresaw must not stop the others, nor stay
        # unsettled (claimed again and again after each lease).
        except Exception as unexpected:
            log.exception("outbox job %s (%s) failed", job.id, job.kind)
            error = f"an unexpected error: {unexpected}"
        session = sessions()
        try:
            settle(session, job.id, error, now())
            session.commit()
        finally:
            session.close()
    return len(claimed)
