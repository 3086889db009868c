"""What moving an asset between two trusts costs, against importing the same records.

    .venv/bin/python bench/transfer.py                 # SQLite: 1,000 and 10,000 records
    .venv/bin/python bench/transfer.py --database-url postgresql://postgres@127.0.0.1/postgres

Two trusts on two loopback ports, each serving from a process of its own (real HTTP, each its
own database and keys). A imports N records of 100 contributors into a locked asset: that
import, sealing every record under its contributor's key, is the baseline. A's board passes
a transfer to B and A's worker sends the signed offer; B's board accepts and B's worker does
the exchange: it fetches the records, checks them against the offer, seals them under B's
keys with their consents, sends a signed acceptance of exactly what it fetched, and takes the
asset on A's signed receipt. It prints seconds, records per second, the size of what moved,
and the exchange's ratio to the import. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.federation import (  # noqa: E402
    drop_databases,
    new_database,
    say,
    settings_of,
    start_trust,
)
from cltd.adapters.canonical import canonical_json  # noqa: E402
from cltd.adapters.clock import now  # noqa: E402
from cltd.adapters.vault import KeyRing  # noqa: E402
from cltd.db import make_sessionmaker, session_scope  # noqa: E402
from cltd.models import Asset, Direction, Member, Peer, Transfer  # noqa: E402
from cltd.resources import default_bylaws_path  # noqa: E402
from cltd.rules.bylaws import Bylaws, ProposalKind, load_bylaws  # noqa: E402
from cltd.rules.tally import Ballot  # noqa: E402
from cltd.services import (  # noqa: E402
    assets,
    consents,
    custody,
    governance,
    outbox,
    peers,
    records,
    transfer_exchange,
    transfers,
)
from cltd.services.members import add_member  # noqa: E402
from cltd.services.seats import assign_seat  # noqa: E402

SIZES = (1_000, 10_000)
CONTRIBUTORS = 100
PASSWORD = secrets.token_urlsafe(16)  # nobody signs in during a bench


def seat_board(sessions, bylaws: Bylaws) -> list[int]:  # type: ignore[no-untyped-def]
    seated = []
    with session_scope(sessions) as session:
        for member_class in bylaws.class_keys():
            for number in (1, 2, 3):
                member = add_member(
                    session,
                    bylaws,
                    email=f"{member_class}{number}@board.example",
                    display_name=f"{member_class} {number}",
                    member_class=member_class,
                    password=PASSWORD,
                    actor="bench",
                    at=now(),
                )
                assign_seat(
                    session,
                    bylaws,
                    member=member,
                    member_class=member_class,
                    number=number,
                    actor="bench",
                    at=now(),
                )
                seated.append(member.id)
    return seated


def decide(sessions, bylaws: Bylaws, seated: list[int], our_base: str | None, **extra) -> None:  # type: ignore[no-untyped-def]
    with session_scope(sessions) as session:
        if "asset_id" in extra:
            extra["asset"] = session.get(Asset, extra.pop("asset_id"))
        proposal = governance.propose(
            session,
            bylaws,
            author=session.get(Member, seated[-1]),  # type: ignore[arg-type]
            title="Bench",
            text="",
            at=now(),
            **extra,
        )
        governance.open_voting(session, bylaws, proposal, actor="bench", at=now())
        for member_id in seated:
            if governance.get_proposal(session, proposal.id).status != "open":
                break
            member = session.get(Member, member_id)
            governance.cast(session, proposal.id, member=member, choice=Ballot.YES, at=now())  # type: ignore[arg-type]
        custody.execute(
            session, proposal.id, actor="bench", at=now(), bylaws=bylaws, our_base=our_base
        )


def import_records(sessions, bylaws: Bylaws, ring: KeyRing, count: int) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    with session_scope(sessions) as session:
        asset = assets.create_asset(
            session,
            bylaws,
            slug="survey",
            title={"en": "Survey"},
            description={},
            keywords=[],
            actor="bench",
            at=now(),
            fields=[{"name": "street", "type": "text"}, {"name": "damp", "type": "boolean"}],
            permitted={"public-benefit": ["street", "damp"]},
        )
        for n in range(CONTRIBUTORS):
            member = add_member(
                session,
                bylaws,
                email=f"c{n}@contributors.example",
                display_name=f"Contributor {n}",
                member_class="contributor",
                password=PASSWORD,
                actor="bench",
                at=now(),
            )
            consents.grant(
                session,
                bylaws.taxonomy,
                member=member,
                asset_id=None,
                purpose="public-benefit",
                at=now(),
            )
        asset_id = asset.id
    rows = [
        records.ImportRow(
            n + 1,
            f"c{n % CONTRIBUTORS}@contributors.example",
            {"street": f"{n} Long Street", "damp": n % 3 == 0},
        )
        for n in range(count)
    ]
    started = time.perf_counter()
    with session_scope(sessions) as session:
        asset = session.get(Asset, asset_id)
        records.import_records(session, ring, asset=asset, rows=rows, actor="bench", at=now())  # type: ignore[arg-type]
    return asset_id, time.perf_counter() - started


def run_jobs(exchange: transfer_exchange.Exchange, sessions) -> int:  # type: ignore[no-untyped-def]
    def deliver(job: outbox.Claimed) -> str | None:
        error = exchange.deliver(job)
        assert error is None, error
        return error

    return outbox.run_once(sessions, deliver, now)


def move(count: int, server_url: str | None, folder: Path, made: list[str]) -> None:
    bylaws = load_bylaws(default_bylaws_path())
    trusts = {}
    for name in ("A", "B"):
        url = new_database(server_url, folder, made)
        process, base, engine, data_dir = start_trust(name, url, folder)
        settings = settings_of(name, url, base, data_dir)
        trusts[name] = (process, base, engine, settings, make_sessionmaker(engine, writes=True))
    try:
        (_, a_base, _, a_settings, a_sessions), (_, b_base, _, b_settings, b_sessions) = (
            trusts["A"],
            trusts["B"],
        )
        fetcher = peers.make_fetcher(allow_loopback=True, timeout=300, max_bytes=256 * 1024 * 1024)
        for sessions, other in ((a_sessions, b_base), (b_sessions, a_base)):
            with session_scope(sessions) as session:
                peers.pin(session, peers.introduce(fetcher, other), actor="bench", at=now())
        say(f"  A imports {count:,} records")
        ring = KeyRing(a_settings.data_dir / "keys")
        asset_id, imported = import_records(a_sessions, bylaws, ring, count)
        a_board, b_board = seat_board(a_sessions, bylaws), seat_board(b_sessions, bylaws)
        with session_scope(a_sessions) as session:
            b_peer = session.scalar(select(Peer.id))
        decide(
            a_sessions,
            bylaws,
            a_board,
            a_base,
            kind=ProposalKind.TRANSFER,
            asset_id=asset_id,
            recipient_peer_id=b_peer,
        )
        a_exchange = transfer_exchange.Exchange.for_trust(
            a_settings, a_sessions, bylaws, fetcher=fetcher
        )
        b_exchange = transfer_exchange.Exchange.for_trust(
            b_settings, b_sessions, bylaws, fetcher=fetcher
        )
        say("  A offers it to B")
        started = time.perf_counter()
        run_jobs(a_exchange, a_sessions)
        offered = time.perf_counter() - started
        with session_scope(b_sessions) as session:
            incoming = session.scalar(select(Transfer.id))
        decide(
            b_sessions, bylaws, b_board, None, kind=ProposalKind.ACCEPT_ASSET, transfer_pk=incoming
        )
        with session_scope(a_sessions) as session:
            sent = session.scalar(select(Transfer).where(Transfer.direction == Direction.OUTGOING))
            size = len(canonical_json(transfers.package(session, ring, sent)))  # type: ignore[arg-type]
        say(f"  B fetches, seals and takes the {count:,} records")
        started = time.perf_counter()
        run_jobs(b_exchange, b_sessions)
        exchanged = time.perf_counter() - started
        with session_scope(b_sessions) as session:
            held = session.scalar(select(Asset).where(Asset.status == "held"))
            assert (
                held is not None and session.scalar(text("SELECT count(*) FROM records")) == count
            )
        print(
            f"import at A      {count:>7,} records: {imported:7.2f} s ({count / imported:8,.0f}/s)"
        )
        print(f"offer A -> B     {count:>7,} records: {offered:7.2f} s")
        print(
            f"exchange         {count:>7,} records: {exchanged:7.2f} s "
            f"({count / exchanged:8,.0f}/s), {size / 1e6:6.2f} MB moved; "
            f"ratio to the import {exchanged / imported:.2f}"
        )
    finally:
        for process, _base, engine, _settings, _sessions in trusts.values():
            process.terminate()
            process.join(timeout=10)
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite files)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    args = parser.parse_args()
    server_url = args.database_url
    if server_url and server_url.startswith("postgresql://"):
        server_url = "postgresql+psycopg://" + server_url.removeprefix("postgresql://")
    made: list[str] = []
    backend = "PostgreSQL" if server_url else "SQLite"
    with tempfile.TemporaryDirectory() as folder:
        try:
            for count in [int(s) for s in args.sizes.split(",")]:
                say(f"two trusts on {backend}, an asset of {count:,} records")
                move(count, server_url, Path(folder), made)
        finally:
            drop_databases(server_url, made)


if __name__ == "__main__":
    main()
