"""Revocation notices through the transactional outbox (reliability R24), on both engines.

A consumer holding a live grant the withdrawal touches is told, by a signed POST to its webhook:
a real loopback HTTP server started here records what arrives. The notice row is written in
the withdrawal's own transaction (rolled back together), delivered by outbox.run_once as
canonical JSON signed with the trust's Ed25519 key, retried with growing backoff while the
consumer fails, given up (dead) after MAX_ATTEMPTS, and shown to the member. Two workers on
their own connections never deliver one job twice.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cltd.adapters.canonical import canonical_json
from cltd.adapters.clock import now
from cltd.adapters.keys import load_signing_key
from cltd.adapters.webhooks import post_signed
from cltd.config import SIGNING_PUBLIC_KEY_FILE, Settings
from cltd.models import AuditEntry, Member, OAuthClient, OutboxJob
from cltd.rules.bylaws import Bylaws
from cltd.services import access, consents, outbox
from tests.conftest import make_settings
from tests.consent.conftest import (
    T0,
    Committed,
    new_asset,
    new_consumer,
    new_grant,
    new_member,
)
from tests.support import mint, register

PURPOSE = "improve-public-services"
KEY_ID = "trust:Test Trust"


# --- a consumer's webhook on the loopback ------------------------------------------------------


@dataclass
class Hook:
    """A consumer's webhook: records every request; answers STATUS (or the next of ANSWERS)."""

    url: str = ""
    status: int = 200
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    hits: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, object]]:
        return [json.loads(body) for _path, _headers, body in self.hits]


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state.delay:
                time.sleep(state.delay)
            with state.lock:
                state.hits.append(
                    (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = state.answers.pop(0) if state.answers else state.status
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/cltd/notices"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _deliverer(settings: Settings) -> Callable[[outbox.Claimed], str | None]:
    """What `cltd worker` does with a job: POST it signed with the trust's key."""
    key = load_signing_key(settings.signing_key_path)
    return lambda job: post_signed(job.target, job.payload, key, KEY_ID)


def _public_key(settings: Settings) -> Ed25519PublicKey:
    key = load_pem_public_key((settings.data_dir / SIGNING_PUBLIC_KEY_FILE).read_bytes())
    assert isinstance(key, Ed25519PublicKey)
    return key


def _verify(headers: dict[str, str], body: bytes, public_key: Ed25519PublicKey) -> None:
    found = re.fullmatch(
        r'keyid="([^"]+)", alg="ed25519", sig="([A-Za-z0-9_-]+)"', headers["cltd-signature"]
    )
    assert found, headers["cltd-signature"]
    assert found.group(1) == KEY_ID
    sig = found.group(2)
    assert "=" not in sig  # base64url without padding
    public_key.verify(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)), body)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at


# --- the scene ---------------------------------------------------------------------------------


@dataclass
class Scene:
    member: Member
    asset_id: int
    asset_slug: str
    consumer: OAuthClient


def _scene(session: Session, bylaws: Bylaws, hook_url: str, *, at: datetime = T0) -> Scene:
    asset = new_asset(session, bylaws, at=at)
    other = new_asset(session, bylaws, at=at)
    member = new_member(session, bylaws, name="Ana", at=at)
    consumer = new_consumer(session, name="Council", webhook_url=hook_url)
    new_grant(session, consumer, asset, PURPOSE, starts_at=at)  # touched: told
    # Not told: no webhook; a grant on a purpose the withdrawal does not cover; a revoked grant;
    # an expired grant; a grant on another asset than the one withdrawn.
    silent = new_consumer(session, name="Silent Lab")
    new_grant(session, silent, asset, PURPOSE, starts_at=at)
    unrelated = new_consumer(session, name="Helpdesk", webhook_url=hook_url + "?unrelated")
    new_grant(session, unrelated, asset, "service-provision", starts_at=at)
    revoked = new_consumer(session, name="Revoked", webhook_url=hook_url + "?revoked")
    access.revoke_grant(
        session, new_grant(session, revoked, asset, PURPOSE, starts_at=at).id, actor="t", at=at
    )
    lapsed = new_consumer(session, name="Lapsed", webhook_url=hook_url + "?lapsed")
    new_grant(
        session, lapsed, asset, PURPOSE, starts_at=at - timedelta(days=2), lasts=timedelta(days=1)
    )
    elsewhere = new_consumer(session, name="Elsewhere", webhook_url=hook_url + "?elsewhere")
    new_grant(session, elsewhere, other, PURPOSE, starts_at=at)
    consents.grant(
        session, bylaws.taxonomy, member=member, asset_id=asset.id, purpose="public-benefit", at=at
    )
    return Scene(member, asset.id, asset.slug, consumer)


def _withdraw(session: Session, bylaws: Bylaws, scene: Scene, at: datetime) -> None:
    ended = consents.withdraw(
        session,
        bylaws.taxonomy,
        member=scene.member,
        asset_id=scene.asset_id,
        purpose="public-benefit",
        at=at,
    )
    assert ended


def _jobs(session: Session) -> list[OutboxJob]:
    session.expire_all()
    return list(session.scalars(select(OutboxJob).order_by(OutboxJob.id)))


# --- tests -------------------------------------------------------------------------------------


def test_a_withdrawal_writes_one_notice_in_its_own_transaction(
    db_session: Session, bylaws: Bylaws, hook: Hook
) -> None:
    scene = _scene(db_session, bylaws, hook.url)
    db_session.commit()
    at = T0 + timedelta(minutes=5)

    _withdraw(db_session, bylaws, scene, at)
    assert [j.target for j in _jobs(db_session)] == [hook.url]  # only the consumer it touches
    db_session.rollback()  # the withdrawal is undone: so is its notice
    assert _jobs(db_session) == []
    assert consents.covers(
        db_session, bylaws.taxonomy, scene.member.id, scene.asset_id, PURPOSE, at
    )

    _withdraw(db_session, bylaws, scene, at)
    db_session.commit()
    (job,) = _jobs(db_session)
    assert (job.kind, job.status, job.attempts, job.member_id) == (
        consents.NOTICE_KIND,
        "pending",
        0,
        scene.member.id,
    )
    assert job.next_attempt_at == at and job.created_at == at
    assert job.payload == {
        "type": "ConsentWithdrawn",
        "asset": scene.asset_slug,
        "purpose": PURPOSE,
        "contributor": f"member:{scene.member.id}",
        "withdrawn_at": at.isoformat(),
        "client_id": scene.consumer.client_id,
    }
    assert not consents.covers(
        db_session, bylaws.taxonomy, scene.member.id, scene.asset_id, PURPOSE, at
    )


def test_a_notice_is_delivered_once_as_signed_canonical_json(
    db_session: Session,
    session_factory: sessionmaker[Session],
    bylaws: Bylaws,
    hook: Hook,
    settings: Settings,
    client,  # type: ignore[no-untyped-def]
) -> None:
    at = now() - timedelta(minutes=10)
    scene = _scene(db_session, bylaws, hook.url, at=at)
    _withdraw(db_session, bylaws, scene, at + timedelta(minutes=1))
    db_session.commit()

    clock = Clock(at + timedelta(minutes=2))
    assert outbox.run_once(session_factory, _deliverer(settings), clock) == 1
    assert outbox.run_once(session_factory, _deliverer(settings), clock) == 0  # nothing left

    (hit,) = hook.hits
    path, headers, body = hit
    assert path == "/cltd/notices" and headers["content-type"] == "application/json"
    assert body == canonical_json(json.loads(body)), "the body is not canonical JSON"
    _verify(headers, body, _public_key(settings))
    tampered = body.replace(b"ConsentWithdrawn", b"ConsentGranted")
    with pytest.raises(InvalidSignature):
        _verify(headers, tampered, _public_key(settings))
    sent = json.loads(body)
    assert sent["type"] == "ConsentWithdrawn" and sent["purpose"] == PURPOSE
    assert sent["contributor"] == f"member:{scene.member.id}"
    assert sent["client_id"] == scene.consumer.client_id

    (job,) = _jobs(db_session)
    assert (job.status, job.attempts, job.delivered_at, job.last_error) == (
        "delivered",
        1,
        clock.at,
        None,
    )
    delivered = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "notice.delivered")
    ).all()
    assert [e.subject for e in delivered] == [f"outbox:{job.id}"]

    app = register(db_session, scopes=["consent:read"], confidential=False, name="Ana's app")
    headers_ana = mint(db_session, app, "consent:read", scene.member)
    notices = client.get("/api/v1/me/uses", headers=headers_ana).get_json()["notices"]
    assert [(n["status"], n["attempts"], n["target"]) for n in notices] == [
        ("delivered", 1, hook.url)
    ]


def test_a_failing_consumer_is_retried_with_growing_backoff_then_given_up(
    db_session: Session,
    session_factory: sessionmaker[Session],
    bylaws: Bylaws,
    hook: Hook,
    settings: Settings,
    client,  # type: ignore[no-untyped-def]
) -> None:
    hook.status = 500
    scene = _scene(db_session, bylaws, hook.url)
    _withdraw(db_session, bylaws, scene, T0)
    db_session.commit()
    clock, deliver = Clock(T0), _deliverer(settings)

    waits: list[timedelta] = []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        assert outbox.run_once(session_factory, deliver, clock) == 1, f"attempt {attempt}"
        (job,) = _jobs(db_session)
        assert job.attempts == attempt and "500" in (job.last_error or "")
        if attempt < outbox.MAX_ATTEMPTS:
            assert job.status == "pending"
            waits.append(job.next_attempt_at - clock.at)
            assert outbox.run_once(session_factory, deliver, clock) == 0  # not due yet
            clock.at = job.next_attempt_at - timedelta(microseconds=1)
            assert outbox.run_once(session_factory, deliver, clock) == 0  # still not due
            clock.at = job.next_attempt_at
    assert job.status == "dead" and job.delivered_at is None
    assert waits == sorted(waits) and len(set(waits)) == len(waits), waits  # strictly growing
    assert waits[0] > timedelta(0)
    assert len(hook.hits) == outbox.MAX_ATTEMPTS
    clock.at += timedelta(days=30)
    assert outbox.run_once(session_factory, deliver, clock) == 0  # dead stays dead

    app = register(db_session, scopes=["consent:read"], confidential=False, name="Ana's app")
    headers_ana = mint(db_session, app, "consent:read", scene.member)
    (notice,) = client.get("/api/v1/me/uses", headers=headers_ana).get_json()["notices"]
    assert (notice["status"], notice["attempts"]) == ("dead", outbox.MAX_ATTEMPTS)
    assert "500" in notice["last_error"] and notice["delivered_at"] is None


def test_a_consumer_that_comes_back_gets_the_notice(
    db_session: Session,
    session_factory: sessionmaker[Session],
    bylaws: Bylaws,
    hook: Hook,
    settings: Settings,
) -> None:
    hook.answers = [503, 302]  # down, then a redirect (never followed), then 200
    scene = _scene(db_session, bylaws, hook.url)
    _withdraw(db_session, bylaws, scene, T0)
    db_session.commit()
    clock, deliver = Clock(T0), _deliverer(settings)
    for _ in range(3):
        assert outbox.run_once(session_factory, deliver, clock) == 1
        (job,) = _jobs(db_session)
        clock.at = job.next_attempt_at
    assert (job.status, job.attempts, job.last_error) == ("delivered", 3, None)
    assert len(hook.hits) == 3 and len({body for _p, _h, body in hook.hits}) == 1


def test_a_job_whose_worker_died_is_claimed_again_after_its_lease(
    db_session: Session,
    session_factory: sessionmaker[Session],
    bylaws: Bylaws,
    hook: Hook,
    settings: Settings,
) -> None:
    scene = _scene(db_session, bylaws, hook.url)
    _withdraw(db_session, bylaws, scene, T0)
    db_session.commit()
    with session_factory() as dying:
        assert len(outbox.claim(dying, T0)) == 1  # claimed, then the worker is killed
        dying.commit()
    clock, deliver = Clock(T0 + outbox.LEASE - timedelta(seconds=1)), _deliverer(settings)
    assert outbox.run_once(session_factory, deliver, clock) == 0  # leased to the dead worker
    clock.at = T0 + outbox.LEASE
    assert outbox.run_once(session_factory, deliver, clock) == 1
    assert len(hook.hits) == 1 and _jobs(db_session)[0].status == "delivered"


def test_two_workers_never_deliver_one_job_twice(
    committed: Committed, bylaws: Bylaws, hook: Hook, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, committed.url)
    hook.delay = 0.005  # deliveries overlap
    at = now() - timedelta(minutes=10)
    with committed.session() as session:
        asset = new_asset(session, bylaws, at=at)
        consumers = [
            new_consumer(session, name=f"Consumer {n}", webhook_url=f"{hook.url}?c={n}")
            for n in range(3)
        ]
        for consumer in consumers:
            new_grant(session, consumer, asset, PURPOSE, starts_at=at)
        members = [new_member(session, bylaws, name=f"Member {n}", at=at) for n in range(9)]
        for member in members:
            consents.grant(
                session, bylaws.taxonomy, member=member, asset_id=None, purpose=PURPOSE, at=at
            )
        session.commit()
        for member in members:
            consents.withdraw(
                session, bylaws.taxonomy, member=member, asset_id=None, purpose=PURPOSE, at=now()
            )
        session.commit()
        expected = len(members) * len(consumers)
        assert len(_jobs(session)) == expected

    deliver, errors = _deliverer(settings), []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        try:
            idle = 0
            while idle < 3:
                idle = idle + 1 if outbox.run_once(committed.sessions, deliver, now) == 0 else 0
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a worker hangs"
    assert not errors, errors

    bodies = [(path, body) for path, _headers, body in hook.hits]
    assert len(bodies) == expected, f"{len(bodies)} deliveries for {expected} jobs"
    assert len(set(bodies)) == expected, "a job was delivered twice"
    with committed.session() as session:
        jobs = _jobs(session)
        assert {(j.status, j.attempts) for j in jobs} == {("delivered", 1)}
