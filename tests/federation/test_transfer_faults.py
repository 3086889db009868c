"""Issue 9, the fault test: each trust runs as its own process (server and worker), and at
each step of the exchange in turn one of them is killed with SIGKILL, restarted, and the
transfer retried. However it is cut, custody ends on exactly one side, the records are all
there once, and the two audit logs tell the same story under the same transfer id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, update

from cltd.adapters.clock import now
from cltd.config import load_settings
from cltd.db import make_sessionmaker, session_scope
from cltd.models import Asset, OutboxJob, OutboxStatus, Transfer
from cltd.resources import default_bylaws_path
from cltd.rules.bylaws import load_bylaws
from tests.conftest import DatabaseFactory, make_settings
from tests.federation.conftest import LiveTrust
from tests.federation.transfer_support import (
    accept_by_board,
    chain_intact,
    incoming,
    pass_transfer,
    pin_each_other,
    record_count,
    seed_asset,
    transfer_entries,
)

CLTD = Path(sys.executable).with_name("cltd")

# (the process killed, the point where it dies)
STEPS = [
    ("a-worker", "offer.before_send"),  # A signed and kept its offer, but never sent it
    ("b-server", "offer.received"),  # B kept the offer; its answer never reached A
    ("a-server", "package.built"),  # A built the records for B, which never got them
    ("b-worker", "accept.fetched"),  # B got the records, but had not sealed them yet
    ("b-worker", "accept.staged"),  # B sealed them, but had not sent its acceptance
    ("a-server", "handover.committed"),  # custody moved at A; its receipt never reached B
    ("b-worker", "receipt.verified"),  # B held A's receipt, but had not taken the asset
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ProcessTrust(LiveTrust):
    data_dir: Path = Path()
    port: int = 0
    server: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, crash_at: str | None = None) -> None:
        self.server = subprocess.Popen(
            [
                str(CLTD),
                "--data-dir",
                str(self.data_dir),
                "serve",
                "--dev",
                "--port",
                str(self.port),
            ],
            env=_env(crash_at),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            assert self.server.poll() is None, "the server did not start"
            time.sleep(0.1)
        raise AssertionError("the server did not answer in 30 s")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(timeout=10)

    def was_killed(self) -> bool:
        assert self.server is not None
        try:
            return self.server.wait(timeout=10) == -signal.SIGKILL
        except subprocess.TimeoutExpired:
            return False

    def worker(self, crash_at: str | None = None) -> int:
        """`cltd worker --once`, every job due now (a killed worker's lease would otherwise
        hold its job for two minutes). Returns the exit code: -9 when killed."""
        with session_scope(self.sessions) as session:
            session.execute(
                update(OutboxJob)
                .where(OutboxJob.status == OutboxStatus.PENDING)
                .values(next_attempt_at=now())
            )
        run = subprocess.run(
            [str(CLTD), "--data-dir", str(self.data_dir), "worker", "--once"],
            env=_env(crash_at),
            capture_output=True,
            timeout=120,
        )
        return run.returncode


def _env(crash_at: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLTD_")}
    if crash_at:
        env["CLTD_CRASH_AT"] = crash_at
    return env


@pytest.fixture
def process_trusts(
    databases: DatabaseFactory, tmp_path: Path
) -> Iterator[Callable[[str], ProcessTrust]]:
    started: list[ProcessTrust] = []

    def start(name: str) -> ProcessTrust:
        url, engine = databases.new_migrated()
        port = free_port()
        data_dir = tmp_path / name
        make_settings(data_dir, url)  # makes the signing key
        (data_dir / "secret_key").write_text("test-secret-" + "x" * 40)
        (data_dir / "config.toml").write_text(
            f'database_url = "{url}"\ntrust_name = "{name}"\n'
            f'base_url = "http://127.0.0.1:{port}"\nallow_loopback_peers = true\n'
            "peer_timeout = 5\n"
        )
        trust = ProcessTrust(
            name,
            f"http://127.0.0.1:{port}",
            load_settings(data_dir, env={}),
            engine,
            make_sessionmaker(engine, writes=True),
            load_bylaws(default_bylaws_path()),
            data_dir=data_dir,
            port=port,
        )
        trust.start()
        started.append(trust)
        return trust

    yield start
    for trust in started:
        trust.stop()
        trust.engine.dispose()


def custody(trust: LiveTrust) -> bool:
    with session_scope(trust.sessions) as session:
        return (
            session.scalar(
                select(Asset.id).where(Asset.slug == "housing-survey", Asset.status == "held")
            )
            is not None
        )


def states(a: LiveTrust, b: LiveTrust) -> tuple[str | None, str | None]:
    found = []
    for trust in (a, b):
        with session_scope(trust.sessions) as session:
            found.append(session.scalar(select(Transfer.state)))
    return found[0], found[1]


@pytest.mark.parametrize(("victim", "point"), STEPS, ids=[p for _, p in STEPS])
def test_a_kill_at_any_step_leaves_custody_on_exactly_one_side(
    process_trusts: Callable[[str], ProcessTrust], victim: str, point: str
) -> None:
    a, b = process_trusts("Riverside"), process_trusts("Northern")
    b_at_a, _ = pin_each_other(a, b)
    pass_transfer(a, seed_asset(a), b_at_a)
    processes = {"a": a, "b": b}
    killed = processes[victim[0]]
    if victim.endswith("server"):
        killed.stop()
        killed.start(crash_at=point)

    def step(trust: ProcessTrust, name: str) -> None:
        crash = point if victim == f"{name}-worker" else None
        code = trust.worker(crash_at=crash)
        assert code == (-signal.SIGKILL if crash else 0), f"{name}'s worker exited {code}"

    # The exchange, run in order; one process dies at its point on the way.
    step(a, "a")  # send the offer
    if incoming_or_none(b) is not None:
        accept_by_board(b, incoming(b).id)
    step(b, "b")  # fetch, stage, accept, take the asset
    if victim.endswith("server"):
        assert killed.was_killed(), f"{victim} did not reach {point}"
        killed.start()
    # Whatever was cut, never both sides hold it.
    assert not (custody(a) and custody(b))

    for _ in range(4):  # retries, as the worker does them on its schedule
        step_clean(a)
        if incoming_or_none(b) is not None and incoming(b).state == "offered":
            accept_by_board(b, incoming(b).id)
        step_clean(b)
        assert not (custody(a) and custody(b))
        if states(a, b) == ("completed", "completed"):
            break
    assert states(a, b) == ("completed", "completed")
    assert custody(b) and not custody(a)
    assert (record_count(a), record_count(b)) == (0, 6)
    transfer_id = incoming(b).transfer_id
    assert transfer_entries(a, transfer_id).count("transfer.completed") == 1
    assert transfer_entries(b, transfer_id).count("transfer.completed") == 1
    assert chain_intact(a) and chain_intact(b)


def step_clean(trust: ProcessTrust) -> None:
    assert trust.worker() == 0


def incoming_or_none(trust: LiveTrust) -> Transfer | None:
    with session_scope(trust.sessions) as session:
        found = session.scalar(select(Transfer))
        if found is not None:
            session.expunge(found)
        return found
