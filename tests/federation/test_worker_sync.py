"""The worker syncs peers on a schedule, and two workers never sync the same peer at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from cltd.adapters.clock import now
from cltd.db import session_scope
from cltd.models import AuditEntry, Peer
from cltd.services import peers
from tests.federation.conftest import LiveTrust
from tests.federation.test_two_trusts import pin


def test_one_lease_per_peer(start_trust: Callable[[str], LiveTrust]) -> None:
    a, b = start_trust("A"), start_trust("B")
    peer_id = pin(b, a)
    assert peers.claim(b.sessions, peer_id, "worker-1", now())
    assert not peers.claim(b.sessions, peer_id, "worker-2", now())
    # A crashed worker's lease runs out.
    assert peers.claim(b.sessions, peer_id, "worker-2", now() + peers.LEASE + timedelta(seconds=1))
    peers.release(b.sessions, peer_id, "worker-2")
    assert peers.claim(b.sessions, peer_id, "worker-3", now())


def test_two_workers_racing_sync_each_due_peer_once(
    start_trust: Callable[[str], LiveTrust],
) -> None:
    a1, a2, b = start_trust("A1"), start_trust("A2"), start_trust("B")
    a1.add_asset("one")
    a2.add_asset("two")
    pinned = [pin(b, a1), pin(b, a2)]
    barrier = threading.Barrier(2)
    results: list[list[peers.SyncResult]] = []

    def work(owner: str) -> None:
        barrier.wait(timeout=10)
        results.append(
            peers.sync_due(
                b.sessions, b.fetcher(), owner=owner, clock=now, every=timedelta(minutes=15)
            )
        )

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with session_scope(b.sessions) as session:
        synced = session.scalars(
            select(AuditEntry.subject).where(AuditEntry.action == "peer.synced")
        ).all()
        assert sorted(synced) == sorted(f"peer:{p}" for p in pinned)  # each once
        assert all(session.get(Peer, p).datasets_held == 1 for p in pinned)
    # Not due again until the interval has passed; asking for a sync makes it due now.
    assert (
        peers.sync_due(b.sessions, b.fetcher(), owner="w", clock=now, every=timedelta(minutes=15))
        == []
    )
    with session_scope(b.sessions) as session:
        peers.request_sync(session, pinned[0], actor="steward:test", at=now())
    again = peers.sync_due(
        b.sessions, b.fetcher(), owner="w", clock=now, every=timedelta(minutes=15)
    )
    assert len(again) == 1 and again[0].refused is None
