"""Peers that misbehave, each against a real HTTP server on loopback: the sync is refused with
a reason a steward can read, nothing of the bad page is applied, and the last good state stays.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session, sessionmaker

from cltd.adapters import dataintegrity, proofset
from cltd.adapters.clock import now
from cltd.db import make_sessionmaker, session_scope
from cltd.models import Peer, PeerDataset, PeerDecision
from cltd.services import peers
from cltd.services.catalog import CONTEXT_PATH, DATA_INTEGRITY
from tests.conftest import DatabaseFactory

Handler = Callable[[str], tuple[int, bytes, float]]  # path -> status, body, delay


@dataclass
class FakePeer:
    """A peer trust we control completely: its key, and what it answers at each moment."""

    server: ThreadingHTTPServer
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    answer: Handler | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def did(self) -> str:
        return peers.did_web(self.origin)

    @property
    def multikey(self) -> str:
        return dataintegrity.public_multikey(self.key.public_key())

    def page(
        self, since: int, datasets: list[dict[str, Any]], cursor: int, **extra: Any
    ) -> dict[str, Any]:
        return {
            "@context": [self.origin + CONTEXT_PATH, DATA_INTEGRITY],
            "id": f"{self.origin}/federation/catalog?since={since}",
            "type": "Catalog",
            "title": {"en": "Fake"},
            "publisher": self.origin + "/federation/trust",
            "dataset": datasets,
            "cursor": cursor,
            **extra,
        }

    def dataset(self, slug: str, seq: int, title: str = "Survey") -> dict[str, Any]:
        return {
            "id": f"{self.origin}/federation/datasets/{slug}",
            "type": "Dataset",
            "identifier": slug,
            "title": {"en": title},
            "modified": now().isoformat(),
            "publisher": self.origin + "/federation/trust",
            "changeSeq": seq,
            "custodyStatus": "held",
            "keyword": ["housing"],
            "language": ["en"],
            "assetLocked": True,
        }

    def sign(
        self,
        document: dict[str, Any],
        *,
        key: Ed25519PrivateKey | None = None,
        created=None,
        jcs_only: bool = False,
    ) -> bytes:  # type: ignore[no-untyped-def]
        signed = proofset.sign_document(
            document,
            key or self.key,
            verification_method=f"{self.did}#{self.multikey}",
            created=created or now(),
            origins=[self.origin],
            suites=(dataintegrity.JCS,) if jcs_only else None,
        )
        if jcs_only:  # a forged rdfc proof: checking it needs canonicalisation first
            forged = {**signed["proof"][0], "cryptosuite": dataintegrity.RDFC}
            forged.pop("@context", None)
            signed["proof"].append(forged)
        return json.dumps(signed).encode()


@pytest.fixture
def fake_peer() -> Iterator[FakePeer]:
    holder: dict[str, FakePeer] = {}

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert holder["peer"].answer is not None
            status, body, delay = holder["peer"].answer(self.path)
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/ld+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up, as it should

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    server.daemon_threads = True
    holder["peer"] = FakePeer(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["peer"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def sessions(databases: DatabaseFactory) -> Iterator[sessionmaker[Session]]:
    _url, engine = databases.new_migrated()
    yield make_sessionmaker(engine, writes=True)
    engine.dispose()


def pinned_with_one_good_page(fake: FakePeer, sessions: sessionmaker[Session]) -> int:
    good = fake.sign(fake.page(0, [fake.dataset("survey", 5)], 5))
    no_decisions = fake.sign(
        {
            **fake.page(0, [], 0),
            "id": f"{fake.origin}/federation/decisions?since=0",
            "type": "DecisionList",
            "decision": [],
        }
    )
    fake.answer = lambda path: (200, no_decisions if "decisions" in path else good, 0.0)
    with session_scope(sessions) as session:
        intro = peers.Introduction(
            fake.origin,
            fake.did,
            "Fake Trust",
            fake.multikey,
            peers.fingerprint(fake.multikey),
            {},
        )
        peer_id = peers.pin(session, intro, actor="steward:test", at=now()).id
    result = peers.sync(sessions, FETCHER, peer_id, clock=now)
    assert result.refused is None and result.applied == 1
    return peer_id


FETCHER = peers.make_fetcher(allow_loopback=True, timeout=1, max_bytes=256 * 1024)


def deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def blank_node_knot(fake: FakePeer) -> dict[str, Any]:
    """Eight blank nodes each linked to every other: a few hundred bytes that take pyld
    minutes to canonicalise unless it is refused first."""
    names = [f"_:b{n}" for n in range(8)]
    nodes = [{"id": name, "knows": [o for o in names if o != name]} for name in names]
    return fake.page(5, nodes, 5)


CASES: dict[str, Callable[[FakePeer], Handler]] = {
    "slow": lambda f: lambda path: (200, b"{}", 3.0),
    "too large": lambda f: lambda path: (200, b" " * (300 * 1024), 0.0),
    "not json": lambda f: lambda path: (200, b"<html>hello</html>", 0.0),
    "not json-ld": lambda f: lambda path: (200, b"[1, 2, 3]", 0.0),
    "deep nesting": lambda f: lambda path: (200, deep(5000), 0.0),
    "server error": lambda f: lambda path: (500, b"{}", 0.0),
    "unknown context": lambda f: (
        lambda path: (
            200,
            f.sign(
                {**f.page(5, [], 5), "@context": ["http://127.0.0.1:9/x", DATA_INTEGRITY]},
                jcs_only=True,
            ),
            0.0,
        )
    ),
    "wrong key": lambda f: (
        lambda path: (
            200,
            f.sign(
                f.page(5, [f.dataset("survey", 9, "Forged")], 9), key=Ed25519PrivateKey.generate()
            ),
            0.0,
        )
    ),
    "tampered page": lambda f: (
        lambda path: (
            200,
            f.sign(f.page(5, [f.dataset("survey", 9)], 9)).replace(b'"Survey"', b'"Forged"'),
            0.0,
        )
    ),
    "another trust's page": lambda f: (
        lambda path: (
            200,
            f.sign({**f.page(5, [], 5), "publisher": "https://elsewhere.example/federation/trust"}),
            0.0,
        )
    ),
    "page not asked for": lambda f: (
        lambda path: (200, f.sign(f.page(0, [f.dataset("survey", 9, "Old")], 9)), 0.0)
    ),
    "replayed older page": lambda f: (
        lambda path: (
            200,
            f.sign(
                f.page(5, [f.dataset("survey", 9, "Stale")], 9), created=now() - timedelta(days=1)
            ),
            0.0,
        )
    ),
    "blank node knot": lambda f: lambda path: (200, f.sign(blank_node_knot(f), jcs_only=True), 0.0),
    "remote context inside a dataset": lambda f: (
        lambda path: (
            200,
            f.sign(
                f.page(5, [{**f.dataset("survey", 9), "@context": "http://127.0.0.1:9/x"}], 9),
                jcs_only=True,
            ),
            0.0,
        )
    ),
}


EXPECTED_REASON = {
    "slow": "timeout",
    "too large": "too-large",
    "not json": "not-json",
    "not json-ld": "not-json-ld",
    "deep nesting": "too-deep",
    "server error": "http-error",
    "unknown context": "unexpected-context",
    "wrong key": "bad-signature",
    "tampered page": "bad-signature",
    "another trust's page": "wrong-trust",
    "page not asked for": "wrong-page",
    "replayed older page": "replayed-page",
    "blank node knot": "blank-nodes-too-interlinked",
    "remote context inside a dataset": "remote-context",
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_peer_keeps_the_last_good_state(
    case: str, fake_peer: FakePeer, sessions: sessionmaker[Session]
) -> None:
    peer_id = pinned_with_one_good_page(fake_peer, sessions)
    fake_peer.answer = CASES[case](fake_peer)
    started = time.monotonic()
    result = peers.sync(sessions, FETCHER, peer_id, clock=now)
    assert time.monotonic() - started < 5
    assert result.refused is not None and result.applied == 0
    assert result.refused.reason == EXPECTED_REASON[case], result.refused
    with session_scope(sessions) as session:
        peer = session.get(Peer, peer_id)
        assert peer.cursor == 5 and peer.datasets_held == 1
        assert peer.last_error_code == result.refused.reason
        assert peer.last_error_detail and "Traceback" not in peer.last_error_detail
        assert peer.last_good_at is not None and peer.last_good_at < peer.last_attempt_at
        (row,) = session.query(PeerDataset).all()
        assert (row.title, row.change_seq) == ({"en": "Survey"}, 5)


def test_an_unreachable_peer_keeps_the_last_good_state(
    fake_peer: FakePeer, sessions: sessionmaker[Session]
) -> None:
    peer_id = pinned_with_one_good_page(fake_peer, sessions)
    fake_peer.server.shutdown()
    fake_peer.server.server_close()
    result = peers.sync(sessions, FETCHER, peer_id, clock=now)
    assert result.refused is not None and result.refused.reason == "unreachable"
    with session_scope(sessions) as session:
        assert session.get(Peer, peer_id).datasets_held == 1


def test_a_decision_record_that_does_not_recount_is_refused(
    fake_peer: FakePeer, sessions: sessionmaker[Session]
) -> None:
    peer_id = pinned_with_one_good_page(fake_peer, sessions)
    row = {"seats": 3, "quorum": "1/2", "threshold": "1/2", "comparison": "greater"}
    claimed = {
        "id": f"{fake_peer.origin}/federation/decisions/7",
        "type": "DecisionRecord",
        "proposalKind": "transfer",
        "auditSeq": 9,
        "outcome": "passed",  # six of nine, with the public class against
        "classResult": [
            {
                **row,
                "memberClass": c,
                "yesCount": y,
                "noCount": n,
                "abstainCount": 0,
                "notVoted": 3 - y - n,
                "passes": y > n,
            }
            for c, y, n in (("contributor", 3, 0), ("community", 3, 0), ("public", 0, 3))
        ],
    }
    good_catalog = fake_peer.sign(fake_peer.page(5, [], 5))
    forged_list = fake_peer.sign(
        {
            **fake_peer.page(0, [], 9),
            "id": f"{fake_peer.origin}/federation/decisions?since=0",
            "type": "DecisionList",
            "decision": [claimed],
        }
    )
    fake_peer.answer = lambda path: (200, forged_list if "decisions" in path else good_catalog, 0.0)
    result = peers.sync(sessions, FETCHER, peer_id, clock=now)
    assert result.refused is not None and result.refused.reason == "recount"
    with session_scope(sessions) as session:
        assert session.query(PeerDecision).count() == 0
        assert session.get(Peer, peer_id).decision_cursor == 0
