"""Many workers appending at once still leave one linear chain (invariant 5).

Each worker holds its own database connection and commits its own transactions; a barrier
releases them together so the appends really contend for the chain's head.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine, func, select

from cltd.adapters.clock import now
from cltd.db import make_engine, make_sessionmaker, session_scope
from cltd.models import AuditEntry
from cltd.services import audit
from cltd.services.audit import AuditAction, verify_chain

WORKERS = 20
APPENDS_EACH = 10


def test_twenty_concurrent_appenders_keep_one_chain(fresh_database: tuple[str, Engine]) -> None:
    url, _engine = fresh_database
    engine = make_engine(url, pool_size=WORKERS, max_overflow=0)  # one real connection each
    sessions = make_sessionmaker(engine, writes=True)
    barrier = threading.Barrier(WORKERS)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(APPENDS_EACH):
                with session_scope(sessions) as session:
                    audit.record(
                        session,
                        actor=f"worker:{worker}",
                        action=AuditAction.MEMBER_ADDED,
                        subject=f"member:{worker}-{i}",
                        at=now(),
                        details={"i": i},
                    )
        except BaseException as error:  # collected and re-raised in the main thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:3]

    with session_scope(sessions) as session:
        total = session.scalar(select(func.count()).select_from(AuditEntry))
        seqs = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        report = verify_chain(session)
    assert total == WORKERS * APPENDS_EACH
    assert seqs == list(range(1, WORKERS * APPENDS_EACH + 1))
    assert report.ok, report.problem
    engine.dispose()
