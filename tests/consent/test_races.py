"""Invariant 2 with real concurrent connections (reliability R5, R17), on both engines.

Reader threads loop over reads, each in its own session and transaction, at the real clock,
while another connection withdraws a member's consent and commits. The start of every read and
the moment the withdrawal's commit returned are taken from one monotonic clock. No read that
started after that moment may serve the member's records (reads that overlapped it may go
either way), no read may fail, and the member who did not withdraw is served throughout.

Two drivers: the service (read_page, as a worker or the API calls it) and the HTTP API itself,
through the app built on the real engine (GET /records in the web's read sessions, the
withdrawal by PUT /api/v1/consents).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cltd.adapters.clock import now
from cltd.adapters.vault import KeyRing
from cltd.db import make_sessionmaker
from cltd.models import Asset, Member, OAuthClient
from cltd.rules.bylaws import Bylaws
from cltd.services import consents, records
from tests.conftest import make_settings
from tests.consent.conftest import Committed, new_asset, new_consumer, new_grant, new_member
from tests.support import mint, register

READERS = 8
ROUNDS = 4
PURPOSE = "improve-public-services"
LINGER = 0.15  # seconds the readers go on after the commit returned


@dataclass(frozen=True)
class Read:
    started: float
    uids: frozenset[str]


@dataclass(frozen=True)
class Scene:
    asset_id: int
    client_id: int
    ana_id: int
    ben_id: int
    ana_uids: frozenset[str]
    ben_uids: frozenset[str]


def _scene(committed: Committed, bylaws: Bylaws, ring: KeyRing) -> Scene:
    at = now() - timedelta(minutes=5)
    with committed.session() as session:
        asset = new_asset(session, bylaws, at=at)
        ana = new_member(session, bylaws, name="Ana", at=at)
        ben = new_member(session, bylaws, name="Ben", at=at)
        consumer = new_consumer(session)
        new_grant(session, consumer, asset, PURPOSE, starts_at=at)
        ana_uids = {
            records.contribute(
                session, ring, asset=asset, member=ana, values={"street": f"Mill {n}"}, at=at
            ).uid
            for n in range(3)
        }
        ben_uids = {
            records.contribute(
                session, ring, asset=asset, member=ben, values={"street": f"Quay {n}"}, at=at
            ).uid
            for n in range(2)
        }
        # Ben's consent never changes: every read must serve him (the readers really read).
        consents.grant(
            session, bylaws.taxonomy, member=ben, asset_id=None, purpose="public-benefit", at=at
        )
        session.commit()
        return Scene(
            asset.id, consumer.id, ana.id, ben.id, frozenset(ana_uids), frozenset(ben_uids)
        )


def _reader(
    read: Callable[[], frozenset[str]],
    start: threading.Barrier,
    stop: threading.Event,
    reads: list[Read],
    errors: list[BaseException],
) -> None:
    start.wait()
    while not stop.is_set():
        started = time.monotonic()
        try:
            reads.append(Read(started, read()))
        except BaseException as error:  # every failed read is a finding
            errors.append(error)
        time.sleep(random.uniform(0, 0.004))  # a consumer's next request, not a spin


def _race(
    scene: Scene,
    read: Callable[[], frozenset[str]],
    change: Callable[[bool], None],
) -> tuple[int, int]:
    """ROUNDS of: Ana consents; READERS threads read in a loop; Ana withdraws mid-flight."""
    deadline = time.monotonic() + 20
    after_commit = overlapped = 0
    slowest = 0.0
    for _round in range(ROUNDS):
        change(True)
        reads: list[Read] = []
        errors: list[BaseException] = []
        start, stop = threading.Barrier(READERS + 1), threading.Event()

        threads = [
            threading.Thread(target=_reader, args=(read, start, stop, reads, errors), daemon=True)
            for _ in range(READERS)
        ]
        for thread in threads:
            thread.start()
        start.wait()
        time.sleep(random.uniform(0.02, 0.08))  # reads are in flight when the withdrawal lands
        withdraw_began = time.monotonic()
        change(False)
        committed_at = time.monotonic()  # the withdrawal's commit has returned
        slowest = max(slowest, committed_at - withdraw_began)
        time.sleep(LINGER)
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
            assert not thread.is_alive(), "a reader hangs"
        assert not errors, f"{len(errors)} of {len(errors) + len(reads)} reads failed: {errors[0]}"

        later = [r for r in reads if r.started > committed_at]
        assert later, "no read started after the commit: the round proves nothing"
        leaked = [r for r in later if r.uids & scene.ana_uids]
        assert not leaked, (
            f"{len(leaked)} of {len(later)} reads that started after the withdrawal committed "
            "still served the member's records"
        )
        assert all(scene.ben_uids <= r.uids for r in reads), "a read lost a consenting member"
        after_commit += len(later)
        overlapped += sum(
            1 for r in reads if r.started < withdraw_began and r.uids & scene.ana_uids
        )
        assert time.monotonic() < deadline, "the race rounds take too long"
    print(f"slowest withdrawal under read load: {slowest:.3f} s")
    return after_commit, overlapped


def test_no_read_that_starts_after_the_withdrawal_commits_serves_the_member(
    committed: Committed, bylaws: Bylaws, ring: KeyRing
) -> None:
    scene = _scene(committed, bylaws, ring)
    # read_page appends to the access log and the audit chain: a writing transaction.
    sessions = make_sessionmaker(committed.engine, writes=True)

    def read() -> frozenset[str]:
        with sessions() as session:
            page = records.read_page(
                session,
                ring,
                bylaws.taxonomy,
                client=session.get_one(OAuthClient, scene.client_id),
                asset=session.get_one(Asset, scene.asset_id),
                purpose=PURPOSE,
                after=0,
                limit=100,
                at=now(),
            )
            session.commit()
            return frozenset(r["id"] for r in page.records)

    def change(give: bool) -> None:
        with sessions() as session:
            member = session.get_one(Member, scene.ana_id)
            action = consents.grant if give else consents.withdraw
            action(
                session, bylaws.taxonomy, member=member, asset_id=None, purpose=PURPOSE, at=now()
            )
            session.commit()

    after_commit, overlapped = _race(scene, read, change)
    print(f"service: {after_commit} reads after a withdrawal commit, 0 leaked; {overlapped} before")
    assert overlapped, "no read served the member before the withdrawal: no race was run"


def test_api_reads_racing_a_withdrawal_neither_leak_nor_fail(
    committed: Committed, bylaws: Bylaws, ring: KeyRing, tmp_path: Path
) -> None:
    """The same race through HTTP: GET /records (the web's read session) against
    PUT /api/v1/consents. Every answer is a 200; none after the commit serves the member."""
    from cltd.web import create_app

    scene = _scene(committed, bylaws, ring)
    with committed.session() as session:
        consumer = session.get_one(OAuthClient, scene.client_id)
        as_consumer = mint(session, consumer, "records:read")
        app_client = register(session, scopes=["consent:write"], confidential=False)
        as_ana = mint(session, app_client, "consent:write", session.get_one(Member, scene.ana_id))
    app = create_app(make_settings(tmp_path, committed.url), engine=committed.engine)
    url = f"/api/v1/assets/{scene.asset_id}/records?purpose={PURPOSE}"

    def read() -> frozenset[str]:
        response = app.test_client().get(url, headers=as_consumer)
        assert response.status_code == 200, (response.status_code, response.get_json())
        return frozenset(r["id"] for r in response.get_json()["records"])

    def change(give: bool) -> None:
        response = app.test_client().put(
            "/api/v1/consents",
            headers=as_ana,
            json={"asset_id": None, "purpose": PURPOSE, "consent": give},
        )
        assert response.status_code == 200, response.get_json()

    after_commit, overlapped = _race(scene, read, change)
    print(f"api: {after_commit} reads after a withdrawal commit, 0 leaked; {overlapped} before")
