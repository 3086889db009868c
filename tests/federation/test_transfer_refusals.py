"""Issue 9, the refusals: an offer is checked before anyone at the receiving trust can act on
it, and every way an exchange can end without the asset leaves it with its sender, lock and
records as they were, with the reason on both sides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from cltd.adapters.clock import now
from cltd.adapters.keys import load_signing_key
from cltd.adapters.trustsigner import TrustSigner
from cltd.db import session_scope
from cltd.models import Asset, Member, Peer, Transfer
from cltd.rules.bylaws import ProposalKind
from cltd.rules.codes import Code
from cltd.rules.tally import Ballot
from cltd.services import catalog, consents, custody, governance, records, transfers, transfers_in
from cltd.services.errors import Conflict, Forbidden
from tests.federation.conftest import LiveTrust, Trusts
from tests.federation.transfer_support import (
    accept_by_board,
    draft,
    exchange,
    held,
    incoming,
    outgoing,
    pin_each_other,
    post_offer,
    record_count,
    refused_with,
    ring,
    seated_board,
    seed_asset,
    transfer_entries,
    vote_through,
    work,
)


def nothing_received(b: LiveTrust) -> bool:
    with session_scope(b.sessions) as session:
        return (
            session.scalars(select(Transfer)).all() == []
            and not session.scalars(select(Asset)).all()
        )


def test_the_untouched_offer_is_received(trusts: Trusts) -> None:
    a, b, _ = trusts
    answer = post_offer(a, b, lambda document: None)
    assert answer.status == 202 and incoming(b).state == "offered"


def test_a_decision_whose_counts_do_not_give_its_outcome_is_refused(trusts: Trusts) -> None:
    """A plain majority, 6 of 9, with the public class against, claimed as passed."""
    a, b, _ = trusts

    def six_of_nine(document: dict[str, Any]) -> None:
        for row in document["decision"]["classResult"]:
            against = row["memberClass"] == "public"
            row.update(
                yesCount=0 if against else 3,
                noCount=3 if against else 0,
                abstainCount=0,
                notVoted=0,
                passes=not against,
            )
        document["decision"]["outcome"] = "passed"

    refused_with(post_offer(a, b, six_of_nine), 422, Code.TRANSFER_DECISION_NOT_RECOUNTED)
    assert nothing_received(b)


def test_a_rejected_or_other_decision_is_refused(trusts: Trusts) -> None:
    a, b, _ = trusts

    def a_licence(document: dict[str, Any]) -> None:
        document["decision"]["proposalKind"] = "licence"

    refused_with(post_offer(a, b, a_licence), 403, Code.TRANSFER_DECISION_MISMATCH)
    assert nothing_received(b)


def test_an_offer_for_an_asset_the_sender_does_not_hold_is_refused(trusts: Trusts) -> None:
    a, b, _ = trusts

    def gone(document: dict[str, Any]) -> None:
        document["dataset"] = {
            **{k: document["dataset"][k] for k in ("id", "type", "identifier", "title")},
            "custodyStatus": "retired",
            "assetLocked": True,
        }

    refused_with(post_offer(a, b, gone), 409, Code.TRANSFER_ASSET_NOT_HELD)
    assert nothing_received(b)


def test_an_offer_naming_another_trust_is_refused(trusts: Trusts) -> None:
    a, b, _ = trusts

    def for_someone_else(document: dict[str, Any]) -> None:
        document["recipient"] = "http://127.0.0.1:9/federation/trust"

    refused_with(post_offer(a, b, for_someone_else), 403, Code.TRANSFER_WRONG_RECIPIENT)

    def decided_for_someone_else(document: dict[str, Any]) -> None:
        document["decision"]["recipientTrust"] = "http://127.0.0.1:9/federation/trust"

    refused_with(post_offer(a, b, decided_for_someone_else), 403, Code.TRANSFER_DECISION_MISMATCH)
    assert nothing_received(b)


def test_an_unlocked_asset_is_refused_by_the_recipient(trusts: Trusts) -> None:
    a, b, _ = trusts

    def unlocked(document: dict[str, Any]) -> None:
        document["dataset"]["assetLocked"] = False

    refused_with(post_offer(a, b, unlocked), 403, Code.TRANSFER_ASSET_NOT_LOCKED)
    assert nothing_received(b)


def test_a_tampered_or_unpinned_offer_is_refused(
    trusts: Trusts, start_trust: Callable[[str], LiveTrust]
) -> None:
    a, b, _ = trusts
    with session_scope(a.sessions) as session:
        transfer = session.scalar(select(Transfer))
        assert transfer is not None
        document = transfers.offer_document(session, transfer, a.bylaws, a.name)
    signed = TrustSigner(a.url, load_signing_key(a.settings.signing_key_path)).sign(document, now())
    signed["recordCount"] = 1  # changed after signing
    answer = a.fetcher().post_json(b.url + "/federation/offers", signed)
    refused_with(answer, 422, Code.TRANSFER_BAD_DOCUMENT)
    stranger = start_trust("Unpinned")  # a trust B never pinned, offering the same thing
    forged = TrustSigner(stranger.url, load_signing_key(stranger.settings.signing_key_path))
    moved = {
        **document,
        "@context": catalog.contexts(stranger.url),
        "sender": stranger.url + "/federation/trust",
    }
    answer = a.fetcher().post_json(b.url + "/federation/offers", forged.sign(moved, now()))
    refused_with(answer, 403, Code.TRANSFER_UNKNOWN_TRUST)
    assert nothing_received(b)


def test_a_recipient_that_is_not_asset_locked_is_refused_at_proposal_and_execution(
    start_trust: Callable[[str], LiveTrust],
) -> None:
    a, b = start_trust("Riverside"), start_trust("Open Data Co")
    b_at_a, _ = pin_each_other(a, b)
    asset_id = seed_asset(a)
    seats = seated_board(a)

    def peer_says_locked(value: bool) -> None:
        with session_scope(a.sessions) as session:
            peer = session.get(Peer, b_at_a)
            assert peer is not None
            peer.description = {**peer.description, "assetLocked": value}

    peer_says_locked(False)
    with session_scope(a.sessions) as session, pytest.raises(Forbidden) as refused:
        draft(
            a,
            session,
            seats,
            ProposalKind.TRANSFER,
            asset=session.get(Asset, asset_id),
            recipient_peer_id=b_at_a,
        )
    assert refused.value.code == Code.PEER_NOT_LOCKED
    # Locked when proposed, no longer when the board's decision is carried out.
    peer_says_locked(True)
    with session_scope(a.sessions) as session:
        proposal_id = draft(
            a,
            session,
            seats,
            ProposalKind.TRANSFER,
            asset=session.get(Asset, asset_id),
            recipient_peer_id=b_at_a,
        )
        vote_through(a, session, seats, proposal_id)
    peer_says_locked(False)
    with pytest.raises(Forbidden) as refused, session_scope(a.sessions) as session:
        custody.execute(session, proposal_id, actor="t", at=now(), bylaws=a.bylaws, our_base=a.url)
    assert refused.value.code == Code.PEER_NOT_LOCKED
    assert held(a, "housing-survey") and record_count(a) == 6


def test_a_replayed_offer_after_completion_is_refused(trusts: Trusts) -> None:
    a, b, _ = trusts
    work(a)
    accept_by_board(b, incoming(b).id)
    work(b)
    sent = outgoing(a)
    assert sent.state == "completed" and held(b, "housing-survey")
    answer = a.fetcher().post_json(b.url + "/federation/offers", dict(sent.offer))
    refused_with(answer, 409, Code.TRANSFER_REPLAYED)
    with session_scope(b.sessions) as session:
        assert len(session.scalars(select(Asset)).all()) == 1
        assert len(session.scalars(select(Transfer)).all()) == 1
    # The acceptance sent again (its answer lost, say) gets the receipt A kept; an acceptance
    # of anything else is a replay. Custody moved once.
    received = incoming(b)
    signer = TrustSigner(b.url, load_signing_key(b.settings.signing_key_path))
    url = f"{a.url}/federation/transfers/{sent.transfer_id}/acceptance"

    def acceptance(digest: str | None) -> dict[str, Any]:
        message = transfers.message(
            b.url, "TransferAcceptance", sent.transfer_id, now(), packageDigest=digest
        )
        return signer.sign(message, now())

    again = a.fetcher().post_json(url, acceptance(received.package_digest))
    assert again.status == 200 and again.json() == received.receipt
    refused_with(a.fetcher().post_json(url, acceptance("0" * 64)), 409, Code.TRANSFER_REPLAYED)
    assert transfer_entries(a, sent.transfer_id).count("transfer.completed") == 1
    assert transfer_entries(b, sent.transfer_id).count("transfer.completed") == 1


def test_a_refused_offer_leaves_the_asset_with_its_sender(trusts: Trusts) -> None:
    a, b, _ = trusts
    work(a)
    offer = incoming(b)

    def steward_refuses() -> None:
        with session_scope(b.sessions) as session:
            transfers_in.refuse(
                session,
                b.bylaws,
                offer.id,
                reason="We cannot look after housing data.",
                actor="s",
                at=now(),
            )

    # B's bylaws give offers to the board: the steward says no only after the board has.
    with pytest.raises(Forbidden) as refused:
        steward_refuses()
    assert refused.value.code == Code.TRANSFER_BOARD_DECIDES
    seats = seated_board(b)
    with session_scope(b.sessions) as session:
        proposal_id = draft(b, session, seats, ProposalKind.ACCEPT_ASSET, transfer_pk=offer.id)
        vote_through(b, session, seats, proposal_id, choice=Ballot.NO)
        assert governance.get_proposal(session, proposal_id).status == "rejected"
    steward_refuses()
    assert work(b) == 1  # the refusal is sent
    sent = outgoing(a)
    assert (sent.state, sent.reason) == ("refused", "We cannot look after housing data.")
    assert incoming(b).state == "refused"
    assert held(a, "housing-survey") and record_count(a) == 6
    with session_scope(a.sessions) as session:
        asset = session.scalar(select(Asset))
        assert asset is not None and asset.locked and asset.custodian is None
    # No longer on offer: the asset takes contributions again.
    with session_scope(a.sessions) as session:
        member = session.scalar(select(Member).where(Member.email == "ana@example.org"))
        records.contribute(
            session,
            ring(a),
            asset=asset_of(session),
            member=member,
            values={"street": "x"},
            at=now(),
        )  # type: ignore[arg-type]


def asset_of(session: Any) -> Asset:
    asset = session.scalar(select(Asset))
    assert asset is not None
    return asset


def test_an_asset_on_offer_takes_no_contribution(trusts: Trusts) -> None:
    a, _b, _ = trusts
    with session_scope(a.sessions) as session, pytest.raises(Conflict) as refused:
        member = session.scalar(select(Member).where(Member.email == "ana@example.org"))
        records.contribute(
            session,
            ring(a),
            asset=asset_of(session),
            member=member,
            values={"street": "x"},
            at=now(),
        )  # type: ignore[arg-type]
    assert refused.value.code == Code.ASSET_BEING_OFFERED


def test_an_offer_that_expires_after_acceptance_leaves_nothing_at_the_recipient(
    trusts: Trusts,
) -> None:
    a, b, _ = trusts
    work(a)
    accept_by_board(b, incoming(b).id)
    with session_scope(a.sessions) as session:
        transfer = session.scalar(select(Transfer))
        assert transfer is not None
        transfer.expires_at = now()  # the offer's last moment passes before B's worker runs
    work(a)  # A's worker expires it
    assert outgoing(a).state == "expired"
    work(b)
    assert incoming(b).state == "expired"
    assert record_count(b) == 0 and not held(b, "housing-survey")
    assert held(a, "housing-survey") and record_count(a) == 6


def test_records_that_change_after_they_were_fetched_are_fetched_again(trusts: Trusts) -> None:
    a, b, _ = trusts
    work(a)
    accept_by_board(b, incoming(b).id)
    transfer_id = incoming(b).transfer_id
    assert exchange(b)._fetch_and_stage(transfer_id, b.url, a.url) is None
    assert incoming(b).state == "staged"
    with session_scope(a.sessions) as session:  # cho withdraws a consent at A meanwhile
        cho = session.scalar(select(Member).where(Member.email == "cho@example.org"))
        consents.withdraw(
            session,
            a.bylaws.taxonomy,
            member=cho,
            asset_id=None,
            purpose="scientific-research",
            at=now(),
        )  # type: ignore[arg-type]
    work(b)
    assert (outgoing(a).state, incoming(b).state) == ("completed", "completed")
    with session_scope(b.sessions) as session:
        cho = session.scalar(select(Member).where(Member.email == "cho@example.org"))
        assert cho is not None
        purposes = sorted(c.purpose for c in consents.live_consents(session, cho.id, now()))
    assert purposes == ["public-benefit"]  # the withdrawal travelled with the records
    assert record_count(b) == 6


def test_an_offer_goes_before_the_board_once(trusts: Trusts) -> None:
    a, b, _ = trusts
    work(a)
    offer = incoming(b)
    seats = seated_board(b)

    def put_to_board() -> None:
        with session_scope(b.sessions) as session:
            draft(b, session, seats, ProposalKind.ACCEPT_ASSET, transfer_pk=offer.id)

    put_to_board()
    with pytest.raises(Conflict) as refused:
        put_to_board()
    assert refused.value.code == Code.TRANSFER_ALREADY_PROPOSED


def test_an_offer_not_accepted_in_time_expires_on_both_sides(trusts: Trusts) -> None:
    a, b, _ = trusts
    work(a)
    for trust in (a, b):
        with session_scope(trust.sessions) as session:
            transfer = session.scalar(select(Transfer))
            assert transfer is not None
            transfer.expires_at = now()
    work(a)
    work(b)
    assert (outgoing(a).state, incoming(b).state) == ("expired", "expired")
    with pytest.raises(Conflict) as refused:
        accept_by_board(b, incoming(b).id)
    assert refused.value.code == Code.TRANSFER_NOT_OPEN
    assert held(a, "housing-survey") and record_count(a) == 6
    assert "transfer.expired" in transfer_entries(b, incoming(b).transfer_id)
