"""Two live trusts on loopback: B pins A, syncs its signed catalog, finds A's datasets; A edits
one and B's incremental sync fetches only that; A transfers one away and B shows the tombstone."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from cltd.adapters.clock import now
from cltd.db import session_scope
from cltd.models import Asset, AuditEntry, Peer, PeerDataset, PeerDecision
from cltd.services import assets, peers
from tests.federation.conftest import LiveTrust


def pin(b: LiveTrust, a: LiveTrust) -> int:
    intro = peers.introduce(b.fetcher(), a.url)
    assert intro.did == "did:web:" + a.url.removeprefix("http://").replace(":", "%3A")
    assert intro.name == a.name
    with session_scope(b.sessions) as session:
        return peers.pin(session, intro, actor="steward:test", at=now()).id


def sync(b: LiveTrust, peer_id: int) -> peers.SyncResult:
    return peers.sync(b.sessions, b.fetcher(), peer_id, clock=now)


def test_b_pins_a_syncs_and_finds_its_datasets_then_only_the_changes(
    start_trust: Callable[[str], LiveTrust],
) -> None:
    a, b = start_trust("Riverside Trust"), start_trust("Northern Trust")
    for n in range(5):
        a.add_asset(f"survey-{n}", keywords=["housing", f"k{n}"])
    a.add_asset(
        "encuesta",
        title={"es": "Encuesta de huertos"},
        description={"es": "Cosechas."},
        keywords=["huertos"],
        permitted={"scientific-research": ["street"]},
    )
    peer_id = pin(b, a)

    first = sync(b, peer_id)
    assert first.refused is None, first.refused
    assert first.applied == 6
    with session_scope(b.sessions) as session:
        peer = session.get(Peer, peer_id)
        assert peer.datasets_held == 6 and peer.last_good_at is not None
        assert peer.last_error_code is None
        found = peers.search(session, keyword="k3")
        assert [d.iri for _p, d in found] == [f"{a.url}/federation/datasets/survey-3"]
        spanish = peers.search(session, language="es")
        assert [d.title for _p, d in spanish] == [{"es": "Encuesta de huertos"}]
        research = peers.search(
            session, purpose_iris=frozenset({"https://w3id.org/dpv#ScientificResearch"})
        )
        assert len(research) == 1
        cursor_after_first = peer.cursor

    again = sync(b, peer_id)
    assert (again.refused, again.applied) == (None, 0)

    with session_scope(a.sessions) as session:
        changed = session.scalar(select(Asset).where(Asset.slug == "survey-2"))
        assets.describe_asset(
            session,
            changed.id,
            title={"en": "Survey two, revised", "fr": "Enquête deux"},
            description=None,
            keywords=None,
            actor="steward:test",
            at=now(),
        )
    incremental = sync(b, peer_id)
    assert (incremental.refused, incremental.pages, incremental.applied) == (None, 1, 1)
    with session_scope(b.sessions) as session:
        row = session.scalar(
            select(PeerDataset).where(PeerDataset.iri == f"{a.url}/federation/datasets/survey-2")
        )
        assert row.title == {"en": "Survey two, revised", "fr": "Enquête deux"}
        assert session.get(Peer, peer_id).cursor > cursor_after_first


def rotate_key(trust: LiveTrust, *, signed_by_old: bool = True) -> str:
    from cltd.adapters import rotation
    from cltd.config import SIGNING_PUBLIC_KEY_FILE
    from cltd.services.catalog import CONTEXT_PATH, DATA_INTEGRITY

    did = "did:web:" + trust.url.removeprefix("http://").replace(":", "%3A")
    statement = rotation.rotate(
        trust.settings.data_dir,
        trust.settings.signing_key_path,
        trust.settings.data_dir / SIGNING_PUBLIC_KEY_FILE,
        statement={
            "@context": [trust.url + CONTEXT_PATH, DATA_INTEGRITY],
            "type": "KeyRotation",
            "did": did,
            "rotatedAt": now().isoformat(),
        },
        did=did,
        at=now(),
    )
    if not signed_by_old:  # a forger who took over the server has only the new key
        (trust.settings.data_dir / rotation.ROTATIONS_FILE).unlink()
    return statement["nextKey"]


def test_a_rotated_key_is_accepted_only_through_a_statement_signed_by_the_old_one(
    start_trust: Callable[[str], LiveTrust],
) -> None:
    a, b, c = start_trust("A"), start_trust("B"), start_trust("C")
    a.add_asset("survey")
    c.add_asset("survey")
    from_a, from_c = pin(b, a), pin(b, c)
    assert sync(b, from_a).refused is None and sync(b, from_c).refused is None

    new_key = rotate_key(a)
    a.add_asset("second")
    followed = sync(b, from_a)
    assert followed.refused is None and followed.applied == 1
    rotate_key(c, signed_by_old=False)
    c.add_asset("second")
    refused = sync(b, from_c)
    assert refused.refused is not None and refused.applied == 0
    with session_scope(b.sessions) as session:
        assert session.get(Peer, from_a).key_multibase == new_key
        kept = session.get(Peer, from_c)
        assert kept.key_multibase != new_key and kept.datasets_held == 1
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
        assert actions.count("peer.key_rotated") == 1


def test_b_receives_a_decisions_records_and_keeps_them_recounted(
    start_trust: Callable[[str], LiveTrust],
) -> None:
    from tests.federation.test_decisions import counterexample

    a, b = start_trust("A"), start_trust("B")
    with session_scope(a.sessions) as session:
        proposal_id = counterexample(session, a.bylaws)
    peer_id = pin(b, a)
    assert sync(b, peer_id).refused is None
    with session_scope(b.sessions) as session:
        (kept,) = session.scalars(select(PeerDecision)).all()
        assert kept.iri == f"{a.url}/federation/decisions/{proposal_id}"
        assert (kept.kind, kept.outcome) == ("transfer", "rejected")
        assert kept.recipient == "Northern Community Data Trust"
        assert session.get(Peer, peer_id).decision_cursor == kept.audit_seq
