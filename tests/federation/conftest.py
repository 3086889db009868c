"""Two real trusts on two loopback ports, each with its own data directory, keys and database
(SQLite or PostgreSQL, as the backend parameter says), talking real HTTP to each other."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from cltd.adapters.clock import now
from cltd.config import Settings
from cltd.db import make_sessionmaker, session_scope
from cltd.resources import default_bylaws_path
from cltd.rules.bylaws import Bylaws, load_bylaws
from cltd.services import assets, peers
from tests.conftest import DatabaseFactory, make_settings


@dataclass
class LiveTrust:
    name: str
    url: str
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    bylaws: Bylaws

    def add_asset(self, slug: str, **extra: object) -> int:
        with session_scope(self.sessions) as session:
            asset = assets.create_asset(
                session,
                self.bylaws,
                slug=slug,
                title=extra.pop("title", {"en": slug.replace("-", " ").title()}),  # type: ignore[arg-type]
                description=extra.pop("description", {"en": f"About {slug}."}),  # type: ignore[arg-type]
                keywords=extra.pop("keywords", ["housing"]),  # type: ignore[arg-type]
                actor="steward:test",
                at=now(),
                fields=[{"name": "street", "type": "text"}],
                permitted=extra.pop("permitted", {"public-benefit": ["street"]}),  # type: ignore[arg-type]
            )
            session.flush()
            return asset.id

    def fetcher(self):  # type: ignore[no-untyped-def]
        return peers.make_fetcher(allow_loopback=True, timeout=3, max_bytes=2 * 1024 * 1024)


@pytest.fixture
def start_trust(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Callable[[str], LiveTrust]]:
    from cltd.web import create_app

    servers: list[tuple[object, threading.Thread, Engine]] = []

    def start(name: str) -> LiveTrust:
        url, engine = databases.new_migrated()
        server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
        base = f"http://127.0.0.1:{server.server_port}"
        settings = make_settings(
            tmp_path / name, url, trust_name=name, base_url=base, allow_loopback_peers=True
        )
        server.app = create_app(settings, engine=engine)  # type: ignore[attr-defined]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread, engine))
        return LiveTrust(
            name,
            base,
            settings,
            engine,
            make_sessionmaker(engine, writes=True),
            load_bylaws(default_bylaws_path()),
        )

    yield start
    for server, thread, engine in servers:
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(timeout=10)
        engine.dispose()


Trusts = tuple[LiveTrust, LiveTrust, int]


@pytest.fixture
def trusts(start_trust: Callable[[str], LiveTrust]) -> Trusts:
    """A holds a locked asset whose transfer to B its board passed; the offer is not sent.
    With B's peer id at A."""
    from tests.federation.transfer_support import pass_transfer, pin_each_other, seed_asset

    a, b = start_trust("Riverside"), start_trust("Northern")
    b_at_a, _ = pin_each_other(a, b)
    pass_transfer(a, seed_asset(a), b_at_a)
    return a, b, b_at_a
