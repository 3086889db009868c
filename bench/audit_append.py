"""How much the hash chain costs: audit appends per second against plain inserts.

    .venv/bin/python bench/audit_append.py [--database-url URL] [--count N] [--workers W]

Both runs use the same engine, the same number of single-row transactions and the same
workers; the baseline writes rows of the same size to a table with no chain, so the ratio is
the price of the chain (head-row lock, canonical JSON, SHA-256). A progress line is printed
while it runs. Without --database-url it uses a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cltd.adapters import migrations
from cltd.adapters.clock import now
from cltd.db import make_engine, make_sessionmaker, session_scope
from cltd.services import audit
from cltd.services.audit import AuditAction, verify_chain

baseline_table = Table(
    "bench_plain_rows",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("actor", String(120)),
    Column("subject", String(200)),
    Column("details", Text),
)


def run(
    label: str, count: int, workers: int, one: Callable[[Session, int], None], sessions
) -> float:  # type: ignore[no-untyped-def]
    done = [0]
    lock = threading.Lock()

    def work(worker: int) -> None:
        for i in range(worker, count, workers):
            with session_scope(sessions) as session:
                one(session, i)
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        time.sleep(0.25)
        print(f"\r{label}: {done[0]}/{count}", end="", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    print(f"\r{label}: {count}/{count} in {elapsed:.2f} s", file=sys.stderr)
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    engine = make_engine(url, pool_size=args.workers + 2)
    migrations.upgrade(engine)
    baseline_table.create(engine, checkfirst=True)
    sessions = make_sessionmaker(engine, writes=True)
    details = {"member_class": "community", "steward": False}

    def plain(session: Session, i: int) -> None:
        session.execute(
            insert(baseline_table).values(
                actor="bench", subject=f"member:{i}", details=str(details)
            )
        )

    def chained(session: Session, i: int) -> None:
        audit.record(
            session,
            actor="bench",
            action=AuditAction.MEMBER_ADDED,
            subject=f"member:{i}",
            at=now(),
            details=details,
        )

    base = run("plain inserts", args.count, args.workers, plain, sessions)
    chain = run("audit appends", args.count, args.workers, chained, sessions)
    with session_scope(sessions) as session:
        started = time.perf_counter()
        report = verify_chain(session)
        verify_rate = report.checked / (time.perf_counter() - started)
    assert report.ok, report.problem
    baseline_table.drop(engine)
    print(
        f"engine: {engine.dialect.name}, {args.workers} workers, "
        f"{args.count} single-row transactions each"
    )
    print(f"plain inserts:  {base:8.0f} /s (baseline)")
    print(f"audit appends:  {chain:8.0f} /s  ratio to baseline {chain / base:.2f}")
    print(f"chain verified: {verify_rate:8.0f} entries/s over {report.checked} entries")


if __name__ == "__main__":
    main()
