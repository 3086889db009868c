"""What signing and syncing a federated catalog cost, and whether memory stays flat.

    .venv/bin/python bench/federation.py                 # SQLite: 1,000 and 10,000 datasets
    .venv/bin/python bench/federation.py --database-url postgresql://postgres@127.0.0.1/postgres

Part 1 signs and verifies a catalog of N datasets (pages of 100) with each cryptosuite,
eddsa-jcs-2022 (JSON canonicalisation) and eddsa-rdfc-2022 (RDF canonicalisation, pyld).
Part 2 stands up two trusts on two loopback ports (real HTTP, each its own database), fills A
with N assets, and times B's full sync of A's catalog (pages of 100, every page verified) and
then an incremental sync after A changes 100 of them. It prints seconds, datasets per second,
and how far the syncing process's resident memory grew (the publishing trust runs in a
process of its own) at each size: it must not grow with N.
The ratio line compares the incremental sync with the full one. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from multiprocessing import Queue
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from cltd.adapters import migrations, proofset  # noqa: E402
from cltd.adapters.clock import now  # noqa: E402
from cltd.adapters.keys import generate_signing_key  # noqa: E402
from cltd.config import SIGNING_KEY_FILE, SIGNING_PUBLIC_KEY_FILE, Settings  # noqa: E402
from cltd.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from cltd.models import Asset, Peer  # noqa: E402
from cltd.resources import default_bylaws_path  # noqa: E402
from cltd.rules.bylaws import load_bylaws  # noqa: E402
from cltd.services import assets, catalog, peers  # noqa: E402

SIZES = (1_000, 10_000)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def new_database(server_url: str | None, folder: Path, made: list[str]) -> str:
    name = f"cltd_bench_{uuid.uuid4().hex[:10]}"
    if server_url is None:
        return f"sqlite:///{folder / (name + '.sqlite3')}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    made.append(name)
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_databases(server_url: str | None, made: list[str]) -> None:
    """The PostgreSQL databases new_database made for this run."""
    if not made:
        return
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")  # type: ignore[arg-type]
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _serve(name: str, url: str, data_dir: str, ports: Queue) -> None:  # type: ignore[type-arg]
    """A trust in a process of its own, so the other side's time and memory are its own."""
    from cltd.web import create_app

    engine = make_engine(url)
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    base = f"http://127.0.0.1:{server.server_port}"
    settings = settings_of(name, url, base, Path(data_dir))
    server.app = create_app(settings, engine=engine)  # type: ignore[attr-defined]
    ports.put(base)
    server.serve_forever()


def start_trust(name: str, url: str, folder: Path):  # type: ignore[no-untyped-def]
    data_dir = folder / f"{name}-{uuid.uuid4().hex[:6]}"
    generate_signing_key(data_dir / SIGNING_KEY_FILE, data_dir / SIGNING_PUBLIC_KEY_FILE)
    engine = make_engine(url)
    migrations.upgrade(engine)
    spawn = multiprocessing.get_context("spawn")
    ports = spawn.Queue()
    process = spawn.Process(target=_serve, args=(name, url, str(data_dir), ports), daemon=True)
    process.start()
    return process, ports.get(timeout=60), engine, data_dir


def settings_of(name: str, url: str, base: str, data_dir: Path) -> Settings:
    """The settings the trust's own process serves with, for work done from this process."""
    return Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key="bench-" + "x" * 40,
        trust_name=name,
        bylaws_path=default_bylaws_path(),
        base_url=base,
        allow_loopback_peers=True,
    ).validated()


class PeakMemory:
    """The largest resident set this process reached while it ran, above where it started."""

    def __init__(self) -> None:
        self.start = self.peak = _rss()
        self._running = True
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while self._running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.02)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._running = False
        self._thread.join()

    @property
    def grown(self) -> int:
        return self.peak - self.start


def _rss() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def fill(engine, count: int) -> None:  # type: ignore[no-untyped-def]
    bylaws = load_bylaws(default_bylaws_path())
    sessions = make_sessionmaker(engine, writes=True)
    for start in range(0, count, 500):
        with session_scope(sessions) as session:
            for n in range(start, min(count, start + 500)):
                assets.create_asset(
                    session,
                    bylaws,
                    slug=f"dataset-{n}",
                    title={"en": f"Dataset {n}", "es": f"Conjunto {n}"},
                    description={"en": "Street by street.", "es": "Calle a calle."},
                    keywords=["housing", f"k{n % 50}"],
                    actor="bench",
                    at=now(),
                    fields=[{"name": "street", "type": "text"}],
                    permitted={"public-benefit": ["street"]},
                )
        say(f"  A holds {min(count, start + 500):,} of {count:,} datasets")


def sign_and_verify(count: int) -> None:
    """Sign and verify the catalog of COUNT datasets as the trust publishes it: pages of 100."""
    base = "http://127.0.0.1:1"
    trust = catalog.Trust(base, "Bench", "did:web:127.0.0.1%3A1")
    bylaws = load_bylaws(default_bylaws_path())
    rows = [
        Asset(
            id=n,
            slug=f"dataset-{n}",
            title={"en": f"Dataset {n}", "es": f"Conjunto {n}"},
            description={"en": "Street by street."},
            keywords=["housing"],
            policy={"permitted": {"public-benefit": ["street"]}},
            locked=True,
            status="held",
            modified_at=now(),
            change_seq=n,
        )
        for n in range(1, count + 1)
    ]
    pages = []
    for start in range(0, count, catalog.PAGE_SIZE):
        chunk = rows[start : start + catalog.PAGE_SIZE]
        pages.append(
            {
                "@context": catalog.contexts(base),
                "id": f"{base}/federation/catalog?since={start}",
                "type": "Catalog",
                "publisher": trust.publisher(),
                "dataset": [catalog.dataset(bylaws, trust, a) for a in chunk],
                "cursor": chunk[-1].change_seq,
            }
        )
    key = Ed25519PrivateKey.generate()
    for suite in proofset.SUITES:
        started = time.perf_counter()
        signed = [
            proofset.sign_document(
                page,
                key,
                verification_method="did:web:127.0.0.1%3A1#k",
                created=now(),
                origins=[base],
                suites=(suite,),
            )
            for page in pages
        ]
        signing = time.perf_counter() - started
        started = time.perf_counter()
        for page in signed:
            proofset.verify_document(page, key.public_key(), origins=[base])
        verifying = time.perf_counter() - started
        print(
            f"{suite:16} {count:>7,} datasets in {len(pages)} pages: sign {signing:7.2f} s "
            f"({count / signing:8,.0f}/s), verify {verifying:7.2f} s ({count / verifying:8,.0f}/s)"
        )


def sync_once(b_sessions, fetcher, peer_id: int) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    with PeakMemory() as memory:
        started = time.perf_counter()
        result = peers.sync(b_sessions, fetcher, peer_id, clock=now)
        elapsed = time.perf_counter() - started
    assert result.refused is None, result.refused
    return elapsed, result.applied, memory.grown


def sync_between_two(count: int, server_url: str | None, folder: Path, made: list[str]) -> None:
    a_server, a_base, a_engine, _ = start_trust("A", new_database(server_url, folder, made), folder)
    b_engine = make_engine(new_database(server_url, folder, made))
    migrations.upgrade(b_engine)
    try:
        fill(a_engine, count)
        b_sessions = make_sessionmaker(b_engine, writes=True)
        fetcher = peers.make_fetcher(allow_loopback=True, timeout=120, max_bytes=32 * 1024 * 1024)
        intro = peers.introduce(fetcher, a_base)
        with session_scope(b_sessions) as session:
            peer_id = peers.pin(session, intro, actor="bench", at=now()).id
        say(f"  B syncs all {count:,}")
        full, applied, full_peak = sync_once(b_sessions, fetcher, peer_id)
        assert applied == count
        a_sessions = make_sessionmaker(a_engine, writes=True)
        with session_scope(a_sessions) as session:
            ids = session.scalars(select(Asset.id).order_by(Asset.id).limit(100)).all()
            for asset_id in ids:
                assets.describe_asset(
                    session,
                    asset_id,
                    title={"en": "Revised"},
                    description=None,
                    keywords=None,
                    actor="bench",
                    at=now(),
                )
        say("  B syncs the 100 changes")
        incremental, changed, inc_peak = sync_once(b_sessions, fetcher, peer_id)
        assert changed == 100
        with session_scope(b_sessions) as session:
            assert session.get(Peer, peer_id).datasets_held == count
        print(
            f"full sync        {count:>7,} datasets: {full:7.2f} s ({count / full:8,.0f}/s), "
            f"memory grew {full_peak / 1e6:6.1f} MB"
        )
        print(
            f"incremental      {changed:>7,} of {count:,}: {incremental:7.2f} s "
            f"({changed / incremental:8,.0f}/s), memory grew {inc_peak / 1e6:6.1f} MB; "
            f"ratio to full sync {incremental / full:.3f}"
        )
    finally:
        a_server.terminate()
        a_server.join(timeout=10)
        a_engine.dispose()
        b_engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite files)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--sync-only", action="store_true", help="skip part 1 (signing)")
    args = parser.parse_args()
    server_url = args.database_url
    if server_url and server_url.startswith("postgresql://"):
        server_url = "postgresql+psycopg://" + server_url.removeprefix("postgresql://")
    sizes = [int(s) for s in args.sizes.split(",")]
    made: list[str] = []
    backend = "PostgreSQL" if server_url else "SQLite"
    with tempfile.TemporaryDirectory() as folder:
        try:
            for count in [] if args.sync_only else sizes:
                say(f"signing a catalog of {count:,}")
                sign_and_verify(count)
            for count in sizes:
                say(f"two trusts on {backend}, {count:,} datasets")
                sync_between_two(count, server_url, Path(folder), made)
        finally:
            drop_databases(server_url, made)


if __name__ == "__main__":
    main()
