"""What purpose limitation costs a read, and whether it stays flat as an asset grows.

    .venv/bin/python bench/records_read.py                       # SQLite: 10k, 100k records
    .venv/bin/python bench/records_read.py --database-url postgresql://postgres@127.0.0.1/postgres
                                                                 # PostgreSQL: 10k, 100k, 1M

For each size it prints p50/p99 of a purpose-filtered page of 1,000 records (consent, policy
and grant checked in the query, values decrypted, read audited) against the same page read
without the consent filter (baseline, same decryption), and their ratio. Then authorised reads
per second over HTTP (gunicorn, 2 workers) against a bare Flask JSON endpoint served the same
way, as a ratio. Contributors are 1 per 10 records; half of them consent. Progress goes to
stderr. On PostgreSQL the script makes its own database and drops it afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cltd.adapters import migrations  # noqa: E402
from cltd.adapters.canonical import canonical_json  # noqa: E402
from cltd.adapters.datadir import create_data_dir  # noqa: E402
from cltd.adapters.vault import (  # noqa: E402
    KeyRing,
    Sealed,
    new_data_key,
    open_sealed,
    record_aad,
    seal,
)
from cltd.config import load_settings  # noqa: E402
from cltd.db import make_engine, make_sessionmaker  # noqa: E402
from cltd.models import Consent, Grant, Member, MemberKey, Record  # noqa: E402
from cltd.rules.bylaws import load_bylaws  # noqa: E402
from cltd.services import assets, oauth, records  # noqa: E402
from cltd.services.datakeys import DataKeys  # noqa: E402

PAGE = 1000
SAMPLES = 30
T0 = datetime.now(UTC) - timedelta(days=1)


def progress(label: str, done: int, total: int) -> None:
    print(
        f"\r{label}: {done:,}/{total:,}",
        end="" if done < total else "\n",
        file=sys.stderr,
        flush=True,
    )


def fresh_postgres(server_url: str) -> str:
    name = f"cltd_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres(server_url: str, url: str) -> None:
    admin = create_engine(
        server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


class Fixture:
    """A trust on disk with one asset, a consumer holding a grant, and N records."""

    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        create_data_dir(
            data_dir,
            trust_name="Bench Trust",
            default_locale="en",
            timezone="UTC",
            database_url=database_url,
        )
        self.settings = load_settings(data_dir, env={})
        self.engine = make_engine(self.settings.database_url, pool_size=4)
        migrations.upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.bylaws = load_bylaws(self.settings.bylaws_path)  # type: ignore[arg-type]
        self.ring = KeyRing(data_dir / "keys")
        self.kek = self.ring.current_id()
        self.keys: dict[int, bytes] = {}
        self.records = 0
        with self.sessions() as session:
            asset = assets.create_asset(
                session,
                self.bylaws,
                slug="bench",
                title={"en": "Bench"},
                description={},
                keywords=[],
                actor="bench",
                at=T0,
                fields=[
                    {"name": "street", "type": "text"},
                    {"name": "damp", "type": "boolean"},
                    {"name": "rooms", "type": "integer"},
                ],
                permitted={"public-benefit": ["street", "damp"]},
            )
            registered = oauth.register_client(
                session,
                name="Bench",
                organisation="Bench",
                client_type="confidential",
                redirect_uris=[],
                scopes=["records:read"],
                grant_types=["client_credentials"],
                may_introspect=False,
                actor="bench",
                at=T0,
            )
            session.add(
                Grant(
                    client_pk=registered.client.id,
                    asset_id=asset.id,
                    purpose="public-benefit",
                    starts_at=T0,
                    expires_at=T0 + timedelta(days=30),
                )
            )
            self.token = secrets.token_urlsafe(32)
            oauth.save_token(
                session,
                {"access_token": self.token, "expires_in": 86400, "scope": "records:read"},
                client=registered.client,
                member=None,
                at=datetime.now(UTC),
            )
            session.commit()
            self.asset_id, self.client_pk = asset.id, registered.client.id

    def grow(self, target: int) -> None:
        """Add records (and 1 contributor per 10 records, half of whom consent) up to TARGET."""
        batch = 5000
        while self.records < target:
            count = min(batch, target - self.records)
            first_member = len(self.keys)
            new_members = max(1, count // 10)
            with self.engine.begin() as connection:
                ids = (
                    connection.execute(
                        insert(Member).returning(Member.id),
                        [
                            {
                                "email": f"c{first_member + i}@bench.example",
                                "display_name": "c",
                                "member_class": "contributor",
                                "is_steward": False,
                                "status": "active",
                                "created_at": T0,
                            }
                            for i in range(new_members)
                        ],
                    )
                    .scalars()
                    .all()
                )
                key_rows, consent_rows = [], []
                for member_id in ids:
                    key = new_data_key()
                    self.keys[member_id] = key
                    kek, wrapped = self.ring.wrap(member_id, key, self.kek)
                    key_rows.append(
                        {
                            "member_id": member_id,
                            "kek_id": kek,
                            "wrapped_key": wrapped,
                            "created_at": T0,
                        }
                    )
                    if member_id % 2 == 0:
                        consent_rows.append(
                            {
                                "member_id": member_id,
                                "asset_id": self.asset_id,
                                "purpose": "public-benefit",
                                "granted_at": T0,
                            }
                        )
                connection.execute(insert(MemberKey), key_rows)
                if consent_rows:
                    connection.execute(insert(Consent), consent_rows)
                members = list(self.keys)
                rows = []
                for _ in range(count):
                    member_id = random.choice(members)
                    uid = uuid.uuid4().hex
                    sealed = seal(
                        self.keys[member_id],
                        canonical_json({"street": "Mill Lane", "damp": True, "rooms": 3}),
                        record_aad(self.asset_id, uid, member_id),
                    )
                    rows.append(
                        {
                            "uid": uid,
                            "asset_id": self.asset_id,
                            "contributor_id": member_id,
                            "nonce": sealed.nonce,
                            "ciphertext": sealed.ciphertext,
                            "created_at": T0,
                        }
                    )
                connection.execute(insert(Record), rows)
            self.records += count
            progress("records", self.records, target)
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")

    def timed_pages(self, filtered: bool) -> list[float]:
        from cltd.models import OAuthClient

        timings = []
        with self.sessions() as session:
            client = session.get(OAuthClient, self.client_pk)
            asset = assets.get_held(session, self.asset_id)
            top = session.scalar(select(Record.id).order_by(Record.id.desc()).limit(1)) or 0
            for _ in range(SAMPLES):
                after = random.randint(0, max(0, top - PAGE * 3))
                started = time.perf_counter()
                if filtered:
                    records.read_page(
                        session,
                        self.ring,
                        self.bylaws.taxonomy,
                        client=client,
                        asset=asset,
                        purpose="public-benefit",
                        after=after,
                        limit=PAGE,
                        at=datetime.now(UTC),
                    )
                else:
                    self._unfiltered(session, after)
                timings.append(time.perf_counter() - started)
                session.rollback()
        return timings

    def _unfiltered(self, session, after: int) -> None:  # type: ignore[no-untyped-def]
        """The same page without the consent filter: the baseline (same unwrapping, decrypting)."""
        rows = session.scalars(
            select(Record)
            .where(Record.asset_id == self.asset_id, Record.id > after)
            .order_by(Record.id)
            .limit(PAGE)
        ).all()
        keys = DataKeys(session, self.ring)
        keys.preload(record.contributor_id for record in rows)
        for record in rows:
            key = keys.for_member(record.contributor_id, create=False, at=T0)
            json.loads(
                open_sealed(
                    key,
                    Sealed(record.nonce, record.ciphertext),
                    record_aad(self.asset_id, record.uid, record.contributor_id),
                )
            )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def hammer(url: str, headers: dict[str, str], seconds: float, threads: int = 8) -> float:
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < stop:
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
                response.read()
            with lock:
                done[0] += 1

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return done[0] / seconds


def http_ratio(fixture: Fixture, data_dir: Path, seconds: float) -> tuple[float, float]:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    env = {
        **os.environ,
        "CLTD_DATA_DIR": str(data_dir),
        "CLTD_WORKERS": "2",
        "CLTD_TOKEN_RATE_LIMIT": "1000000 per minute",
        "PYTHONPATH": str(ROOT),
    }
    port = free_port()
    cltd_server = serve(
        [
            gunicorn,
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "cltd.web:create_app()",
        ],
        env,
        port,
    )
    try:
        url = (
            f"http://127.0.0.1:{port}/api/v1/assets/{fixture.asset_id}/records"
            f"?purpose=public-benefit&limit=100"
        )
        authorised = hammer(url, {"Authorization": f"Bearer {fixture.token}"}, seconds)
    finally:
        cltd_server.terminate()
        cltd_server.wait(timeout=30)
    port = free_port()
    bare_server = serve(
        [
            gunicorn,
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT / "bench"),
            "bare_app:app",
        ],
        env,
        port,
    )
    try:
        bare = hammer(f"http://127.0.0.1:{port}/bare", {}, seconds)
    finally:
        bare_server.terminate()
        bare_server.wait(timeout=30)
    return authorised, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--sizes", help="comma-separated record counts")
    parser.add_argument("--http-seconds", type=float, default=10.0)
    args = parser.parse_args()
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else [10_000, 100_000, 1_000_000]
        if args.database_url
        else [10_000, 100_000]
    )
    data_dir = Path(tempfile.mkdtemp(prefix="cltd-bench-"))
    url = fresh_postgres(args.database_url) if args.database_url else None
    try:
        fixture = Fixture(data_dir / "trust", url)
        print(
            f"engine: {fixture.engine.dialect.name}; page of {PAGE} records; "
            f"{SAMPLES} samples per figure"
        )
        print(
            f"{'records':>10} {'contributors':>12} {'filtered p50':>13} {'p99':>8} "
            f"{'baseline p50':>13} {'p99':>8} {'ratio p50':>10}"
        )
        for size in sizes:
            fixture.grow(size)
            filtered = fixture.timed_pages(True)
            baseline = fixture.timed_pages(False)
            ratio = statistics.median(filtered) / statistics.median(baseline)
            f50, f99 = statistics.median(filtered) * 1000, percentile(filtered, 0.99) * 1000
            b50, b99 = statistics.median(baseline) * 1000, percentile(baseline, 0.99) * 1000
            print(
                f"{size:>10,} {len(fixture.keys):>12,} {f50:>11.1f}ms {f99:>6.1f}ms "
                f"{b50:>11.1f}ms {b99:>6.1f}ms {ratio:>10.2f}",
                flush=True,
            )
        authorised, bare = http_ratio(fixture, data_dir / "trust", args.http_seconds)
        print("HTTP, gunicorn 2 workers, 8 client threads, pages of 100 records:")
        print(f"  authorised purpose-bound reads: {authorised:8.1f} /s")
        print(f"  bare Flask JSON endpoint:       {bare:8.1f} /s (baseline)")
        print(f"  ratio: {authorised / bare:.3f}")
        fixture.engine.dispose()
    finally:
        if url:
            drop_postgres(args.database_url, url)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
