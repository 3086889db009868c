"""Issue 9, the edges: a package that does not fit is refused whole and never crashes the
worker, a decision rests one offer only and must be tripartite, a signed package request is
good once, transfer work is never given up, and a contributor who arrived can join."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from cltd.adapters.clock import now
from cltd.adapters.keys import load_signing_key
from cltd.adapters.peerhttp import PeerResponse
from cltd.adapters.trustsigner import TrustSigner
from cltd.db import session_scope
from cltd.models import Asset, Member, OutboxJob, OutboxStatus, Record, Transfer
from cltd.rules.codes import Code
from cltd.services import assets, outbox, transfers, transfers_in
from cltd.services.erasure import erase_member
from cltd.services.members import add_member
from tests.federation.conftest import LiveTrust, Trusts
from tests.federation.transfer_support import (
    accept_by_board,
    exchange,
    incoming,
    outgoing,
    post_offer,
    refused_with,
    ring,
    work,
)


def accepted(trusts: Trusts) -> tuple[LiveTrust, LiveTrust, dict[str, Any]]:
    """B's board accepted A's offer; what A would serve B, as plain JSON."""
    a, b, _ = trusts
    work(a)
    accept_by_board(b, incoming(b).id)
    with session_scope(a.sessions) as session:
        sent = session.scalar(select(Transfer))
        assert sent is not None
        return a, b, transfers.package(session, ring(a), sent)


def naive_time(package: dict[str, Any]) -> None:
    package["records"][0]["createdAt"] = "2026-01-01T10:00:00"


def same_id_twice(package: dict[str, Any]) -> None:
    package["records"][1]["uid"] = package["records"][0]["uid"]


def another_title(package: dict[str, Any]) -> None:
    package["asset"]["title"] = {"en": "Something else"}


def long_email(package: dict[str, Any]) -> None:
    package["contributors"][0]["email"] = "x" * 250 + "@example.org"


def one_record_more(package: dict[str, Any]) -> None:
    package["records"].append({**package["records"][0], "uid": "f" * 32})


def naive_consent(package: dict[str, Any]) -> None:
    package["contributors"][0]["consents"][0]["grantedAt"] = "2026-01-01T10:00:00"


def unknown_purpose(package: dict[str, Any]) -> None:
    package["asset"]["policy"]["permitted"]["astrology"] = ["street"]


@pytest.mark.parametrize(
    "tamper",
    [
        naive_time,
        same_id_twice,
        another_title,
        long_email,
        one_record_more,
        naive_consent,
        unknown_purpose,
    ],
)
def test_a_package_that_does_not_fit_is_refused_whole(
    trusts: Trusts, tamper: Callable[[dict[str, Any]], None]
) -> None:
    _a, b, package = accepted(trusts)
    tamper(package)
    with session_scope(b.sessions) as session, pytest.raises(transfers_in.PackageInvalid):
        transfer = session.scalar(select(Transfer))
        assert transfer is not None
        transfers_in.stage(
            session,
            ring(b),
            b.bylaws,
            transfer,
            package,
            package_digest=transfers.digest(package),
            at=now(),
        )
    with session_scope(b.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 0
        assert session.scalar(select(func.count()).select_from(Asset)) == 0
    assert incoming(b).state == "accepted"


def test_a_record_id_already_held_here_is_refused_and_the_worker_goes_on(
    trusts: Trusts,
) -> None:
    a, b, package = accepted(trusts)
    with session_scope(b.sessions) as session:  # B already holds a record with one of its ids
        member = add_member(
            session,
            b.bylaws,
            email="zoe@example.org",
            display_name="Zoe",
            member_class="contributor",
            password="a long enough password",
            actor="steward:test",
            at=now(),
        )
        own = assets.create_asset(
            session,
            b.bylaws,
            slug="own",
            title={"en": "Own"},
            description={},
            keywords=[],
            actor="steward:test",
            at=now(),
            fields=[{"name": "street", "type": "text"}],
        )
        session.add(
            Record(
                uid=package["records"][0]["uid"],
                asset_id=own.id,
                contributor_id=member.id,
                nonce=b"n" * 12,
                ciphertext=b"c" * 32,
                created_at=now(),
            )
        )
    work(b)  # fetches, finds the clash, refuses with its reason, and goes on
    received = incoming(b)
    assert (received.state, received.reason_code) == ("refused", "transfer.package_invalid")
    assert "already used" in (received.reason or "")
    work(b)  # the refusal reaches A
    assert outgoing(a).state == "refused" and outgoing(a).reason == received.reason
    with session_scope(b.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 1


def test_a_decision_of_two_classes_does_not_recount(trusts: Trusts) -> None:
    a, b, _ = trusts

    def two_classes(document: dict[str, Any]) -> None:
        document["decision"]["classResult"] = document["decision"]["classResult"][:2]

    refused_with(post_offer(a, b, two_classes), 422, Code.TRANSFER_DECISION_NOT_RECOUNTED)


def test_one_decision_rests_one_offer(trusts: Trusts) -> None:
    a, b, _ = trusts
    assert post_offer(a, b, lambda document: None).status == 202

    def another_offer(document: dict[str, Any]) -> None:
        document["transferId"] = "e" * 32

    refused_with(post_offer(a, b, another_offer), 409, Code.TRANSFER_REPLAYED)


def test_a_signed_package_request_is_good_once(trusts: Trusts) -> None:
    a, b, _ = trusts
    work(a)
    accept_by_board(b, incoming(b).id)
    transfer_id = incoming(b).transfer_id
    signer = TrustSigner(b.url, load_signing_key(b.settings.signing_key_path))
    request = signer.sign(
        transfers.message(
            b.url, "PackageRequest", transfer_id, now(), requestedAt=now().isoformat()
        ),
        now(),
    )
    url = f"{a.url}/federation/transfers/{transfer_id}/package"
    first = a.fetcher().post_json(url, request)
    assert first.status == 200 and len(first.json()["records"]) == 6
    refused_with(a.fetcher().post_json(url, request), 422, Code.TRANSFER_BAD_DOCUMENT)


def test_transfer_work_is_never_given_up(trusts: Trusts) -> None:
    a, _b, _ = trusts
    with session_scope(a.sessions) as session:
        job = session.scalar(select(OutboxJob).where(OutboxJob.kind == "transfer.offer"))
        assert job is not None
        job_id = job.id
    for _ in range(outbox.MAX_ATTEMPTS + 4):
        with session_scope(a.sessions) as session:
            outbox.settle(session, job_id, "the other trust is away", now())
    with session_scope(a.sessions) as session:
        job = session.get(OutboxJob, job_id)
        assert job is not None and job.status == OutboxStatus.PENDING
        assert job.next_attempt_at <= now() + outbox.LONGEST_WAIT
    assert outgoing(a).state == "offered"


def test_a_job_that_fails_unexpectedly_is_settled_not_fatal(trusts: Trusts) -> None:
    a, _b, _ = trusts

    def broken(job: outbox.Claimed) -> str | None:
        raise RuntimeError("a bug")

    assert outbox.run_once(a.sessions, broken, now) == 1
    with session_scope(a.sessions) as session:
        job = session.scalar(select(OutboxJob).where(OutboxJob.kind == "transfer.offer"))
        assert job is not None and job.attempts == 1 and "a bug" in (job.last_error or "")


def test_a_contributor_erased_here_is_not_held_again(trusts: Trusts) -> None:
    """Ana left B and had her data erased there; an asset with her records from A is refused
    whole rather than bring them back under a member who cannot sign in to withdraw them."""
    a, b, _ = trusts
    with session_scope(b.sessions) as session:
        ana = add_member(
            session,
            b.bylaws,
            email="ana@example.org",
            display_name="Ana",
            member_class="community",
            password="a long enough password",
            actor="steward:test",
            at=now(),
        )
        erase_member(session, b.bylaws.taxonomy, ana, actor="member:self", at=now())
    work(a)
    accept_by_board(b, incoming(b).id)
    work(b)
    received = incoming(b)
    assert (received.state, received.reason_code) == ("refused", "transfer.package_invalid")
    assert "erased" in (received.reason or "")
    with session_scope(b.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 0
        assert session.scalar(select(func.count()).select_from(Asset)) == 0
    work(b)  # the refusal reaches A, which still holds the asset
    assert outgoing(a).state == "refused"
    with session_scope(a.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 6


def test_a_contributor_who_arrived_can_become_a_member(trusts: Trusts) -> None:
    a, b, _ = trusts
    work(a)
    accept_by_board(b, incoming(b).id)
    work(b)
    with session_scope(b.sessions) as session:
        arrived = session.scalar(select(Member).where(Member.email == "ana@example.org"))
        assert arrived is not None and arrived.status == "non-member"
        joined = add_member(
            session,
            b.bylaws,
            email="ana@example.org",
            display_name="Ana",
            member_class="community",
            password="a long enough password",
            actor="steward:test",
            at=now(),
        )
        assert (joined.id, joined.status) == (arrived.id, "active")
        mine = session.scalar(
            select(func.count()).select_from(Record).where(Record.contributor_id == joined.id)
        )
        assert mine == 3


@dataclass
class Answering:
    """Stands in for the network between A and B: answers every message with one response
    (what a proxy in front of B might say)."""

    status: int
    body: bytes

    def post_json(self, url: str, document: Any) -> PeerResponse:
        return PeerResponse(self.status, url, "application/problem+json", self.body)


def test_only_the_other_trusts_own_refusal_ends_an_offer(trusts: Trusts) -> None:
    a, _b, _ = trusts
    transfer_id = outgoing(a).transfer_id
    sender = exchange(a)
    for status, body in ((404, b"Not Found"), (429, b""), (413, b"<html>too big</html>")):
        sender.fetcher = Answering(status, body)  # type: ignore[assignment]
        assert sender.deliver(claimed(transfer_id)) is not None  # tried again later
        assert outgoing(a).state == "offered"
    sender.fetcher = Answering(409, json.dumps({"code": "transfer.replayed"}).encode())  # type: ignore[assignment]
    assert sender.deliver(claimed(transfer_id)) is None  # B already settled this very offer
    assert outgoing(a).state == "offered"
    refusal = {"code": "transfer.wrong_recipient", "detail": "Not for us."}
    sender.fetcher = Answering(403, json.dumps(refusal).encode())  # type: ignore[assignment]
    assert sender.deliver(claimed(transfer_id)) is None
    assert (outgoing(a).state, outgoing(a).reason) == ("refused", "Not for us.")


def claimed(transfer_id: str) -> outbox.Claimed:
    return outbox.Claimed(0, "transfer.offer", "", {"transfer": transfer_id}, 0)
