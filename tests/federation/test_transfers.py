"""Issue 9: a locked asset moves from one live trust to another, by the votes of both boards,
custody moving exactly once; and every offer that should be refused is refused."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from cltd.adapters.clock import now
from cltd.db import session_scope
from cltd.models import Asset, PeerDataset, TransferContributor
from cltd.services import peers, uses
from tests.federation.conftest import LiveTrust
from tests.federation.transfer_support import (
    accept_by_board,
    chain_intact,
    consumer_reads,
    held,
    incoming,
    outgoing,
    pass_transfer,
    pin_each_other,
    record_count,
    seed_asset,
    transfer_entries,
    work,
)


def test_a_locked_asset_moves_by_the_votes_of_both_boards(
    start_trust: Callable[[str], LiveTrust],
) -> None:
    a, b = start_trust("Riverside Community Data Trust"), start_trust("Northern Data Trust")
    b_at_a, a_at_b = pin_each_other(a, b)
    asset_id = seed_asset(a)
    before = {r["street"] for r in consumer_reads(a, "housing-survey", "public-benefit")}
    assert len(before) == 4  # ana's 3 and cho's 1 consent to public benefit; ben's do not

    pass_transfer(a, asset_id, b_at_a)
    assert held(a, "housing-survey")  # an offer is not a move: the asset is still here
    assert work(a) == 1  # the worker sends the signed offer

    offer = incoming(b)
    assert offer.state == "offered" and (offer.records, offer.contributors) == (6, 3)
    assert offer.offer["decision"]["outcome"] == "passed"  # type: ignore[index]
    assert not held(b, "housing-survey")

    accept_by_board(b, offer.id)
    assert work(b) == 1  # fetch, stage, accept, receive the receipt

    sent, received = outgoing(a), incoming(b)
    assert (sent.state, received.state) == ("completed", "completed")
    assert sent.transfer_id == received.transfer_id
    assert held(b, "housing-survey") and not held(a, "housing-survey")
    assert record_count(a) == 0 and record_count(b) == 6

    # The same consents hold at B: the same four records for public benefit, not ben's two.
    after = {r["street"] for r in consumer_reads(b, "housing-survey", "public-benefit")}
    assert after == before

    # Both audit logs tell the same story under the same transfer id, and both chains hold.
    assert transfer_entries(a, sent.transfer_id) == [
        "transfer.offered",
        "transfer.package_served",
        "transfer.completed",
    ]
    assert transfer_entries(b, sent.transfer_id)[0] == "transfer.received"
    assert transfer_entries(b, sent.transfer_id)[-1] == "transfer.completed"
    assert "transfer.accepted" in transfer_entries(b, sent.transfer_id)
    assert chain_intact(a) and chain_intact(b)

    # A's catalog shows a tombstone naming B; B's shows the dataset with its provenance.
    fetcher = a.fetcher()
    a_catalog = fetcher.get_json(a.url + "/federation/catalog")
    tomb = next(d for d in a_catalog["dataset"] if d["identifier"] == "housing-survey")
    assert tomb["custodyStatus"] == "transferred" and tomb["custodian"] == b.name
    b_catalog = fetcher.get_json(b.url + "/federation/catalog")
    arrived = next(d for d in b_catalog["dataset"] if d["identifier"] == "housing-survey")
    assert arrived["custodyStatus"] == "held" and arrived["assetLocked"] is True
    assert arrived["wasDerivedFrom"] == a.url + "/federation/datasets/housing-survey"
    assert arrived["receivedFrom"] == a.url + "/federation/trust"
    assert arrived["transferId"] == sent.transfer_id

    # A's contributors see the move in "Who used my data".
    with session_scope(a.sessions) as session:
        moved = session.scalars(select(TransferContributor)).all()
        assert sorted(m.record_count for m in moved) == [1, 2, 3]
        history = uses.moves_of(session, moved[0].member_id)
        assert [(m.trust, m.asset_slug) for m in history] == [(b.name, "housing-survey")]

    # Each syncs the other: A now finds the dataset at B; B sees A's tombstone.
    assert peers.sync(a.sessions, fetcher, b_at_a, clock=now).refused is None
    assert peers.sync(b.sessions, fetcher, a_at_b, clock=now).refused is None
    with session_scope(a.sessions) as session:
        found = session.scalar(select(PeerDataset).where(PeerDataset.peer_id == b_at_a))
        assert found is not None and found.status == "held"
    with session_scope(b.sessions) as session:
        tombstone = session.scalar(select(PeerDataset).where(PeerDataset.peer_id == a_at_b))
        assert tombstone is not None and tombstone.status == "transferred"


def test_nothing_arrives_until_accepted(start_trust: Callable[[str], LiveTrust]) -> None:
    a, b = start_trust("A trust"), start_trust("B trust")
    b_at_a, _ = pin_each_other(a, b)
    asset_id = seed_asset(a)
    pass_transfer(a, asset_id, b_at_a)
    work(a)
    assert work(b) == 0  # an offer waiting for B's board makes no work for B's worker
    with session_scope(b.sessions) as session:
        assert session.scalars(select(Asset)).all() == []
    assert record_count(a) == 6
