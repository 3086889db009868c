"""The board's other work through the services, on both engines: licences from pending access
requests and the ledger that shares their payments, amendments that apply on execution while
open proposals keep their rules, lifting the lock, elections, and one seat per member."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.adapters.vault import KeyRing
from cltd.models import AssetStatus, Grant, LedgerShare, Member, ProposalStatus, RequestStatus
from cltd.resources import default_bylaws_path
from cltd.rules.bylaws import Bylaws, ProposalKind
from cltd.rules.codes import Code
from cltd.rules.tally import Ballot
from cltd.services import (
    access,
    assets,
    consents,
    custody,
    elections,
    governance,
    ledger,
    records,
    rulebook,
)
from cltd.services.errors import Conflict, Forbidden, InvalidInput
from cltd.services.seats import assign_seat
from tests.services.test_governance import T0, board
from tests.support import register


def asset_of(session: Session, bylaws: Bylaws, slug: str = "survey"):  # type: ignore[no-untyped-def]
    return assets.create_asset(
        session,
        bylaws,
        slug=f"{slug}-{id(session)}",
        title={"en": "Survey"},
        description={},
        keywords=[],
        actor="test",
        at=T0,
        fields=[{"name": "street", "type": "text"}],
        permitted={"scientific-research": ["street"], "public-benefit": ["street"]},
    )


def pass_it(session: Session, seats: dict[str, list[Member]], proposal_id: int) -> None:
    for members in seats.values():
        for member in members[:2]:
            governance.cast(
                session, proposal_id, member=member, choice=Ballot.YES, at=T0 + timedelta(hours=1)
            )


def test_drafting_needs_a_seat_or_the_steward(
    db_session: Session, bylaws: Bylaws, make_member
) -> None:  # type: ignore[no-untyped-def]
    plain = make_member("community")
    asset = asset_of(db_session, bylaws)
    with pytest.raises(Forbidden) as refused:
        governance.propose(
            db_session,
            bylaws,
            author=plain,
            kind=ProposalKind.RETIRE,
            title="Retire",
            text="",
            at=T0,
            asset=asset,
        )
    assert refused.value.code == Code.BOARD_ONLY
    steward = make_member("community", steward=True)
    proposal = governance.propose(
        db_session,
        bylaws,
        author=steward,
        kind=ProposalKind.RETIRE,
        title="Retire",
        text="",
        at=T0,
        asset=asset,
    )
    assert proposal.status == ProposalStatus.DRAFT


def test_one_member_holds_one_seat(db_session: Session, bylaws: Bylaws, make_member) -> None:  # type: ignore[no-untyped-def]
    member = make_member("public")
    assign_seat(
        db_session, bylaws, member=member, member_class="public", number=1, actor="t", at=T0
    )
    with pytest.raises(InvalidInput) as refused:
        assign_seat(
            db_session, bylaws, member=member, member_class="public", number=2, actor="t", at=T0
        )
    assert refused.value.code == Code.SEAT_ALREADY_HELD


def test_a_licence_answers_a_pending_request_and_its_payments_are_shared(
    db_session: Session, bylaws: Bylaws, make_member, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    seats = board(db_session, bylaws)
    asset = asset_of(db_session, bylaws)
    ring = KeyRing(tmp_path / "keys")
    alice, bob = make_member("contributor"), make_member("contributor")
    for member, streets in ((alice, ["Mill Lane"] * 3), (bob, ["Quay Street"])):
        for street in streets:
            records.contribute(
                db_session, ring, asset=asset, member=member, values={"street": street}, at=T0
            )
        consents.grant(
            db_session,
            bylaws.taxonomy,
            member=member,
            asset_id=asset.id,
            purpose="scientific-research",
            at=T0,
        )
    study = register(db_session, scopes=["records:read", "access:request"])
    answer = access.request_access(
        db_session,
        bylaws,
        client=study,
        asset=asset,
        purpose="scientific-research",
        justification="A university study of damp housing.",
        at=T0,
    )
    assert answer.request.status == RequestStatus.PENDING and answer.grant is None
    assert governance.pending_requests(db_session) == [answer.request]

    licence = governance.propose(
        db_session,
        bylaws,
        author=seats["public"][0],
        kind=ProposalKind.LICENCE,
        title="License the survey to the study",
        text="",
        at=T0,
        access_request_id=answer.request.id,
    )
    assert (licence.asset_id, licence.recipient) == (asset.id, study.name)
    with pytest.raises(InvalidInput):  # no payment before the licence is carried out
        ledger.record_payment(
            db_session,
            bylaws,
            licence.id,
            amount_cents=100,
            currency="EUR",
            note="",
            actor="t",
            at=T0,
        )
    governance.open_voting(db_session, bylaws, licence, actor="t", at=T0)
    pass_it(db_session, seats, licence.id)
    later = T0 + timedelta(hours=2)
    custody.execute(db_session, licence.id, actor="t", at=later, bylaws=bylaws)
    assert answer.request.status == RequestStatus.GRANTED
    grant = db_session.scalar(select(Grant).where(Grant.request_id == answer.request.id))
    assert grant is not None and grant.purpose == "scientific-research"
    assert asset.status == AssetStatus.HELD  # a licence is not a transfer

    page = records.read_page(
        db_session,
        ring,
        bylaws.taxonomy,
        client=study,
        asset=asset,
        purpose="scientific-research",
        after=0,
        limit=100,
        at=later,
    )
    assert len(page.records) == 4
    payment = ledger.record_payment(
        db_session,
        bylaws,
        licence.id,
        amount_cents=100_001,
        currency="EUR",
        note="First year",
        actor="steward:test",
        at=later,
    )
    shares = {
        s.member_id: s.amount_cents
        for s in db_session.scalars(select(LedgerShare).where(LedgerShare.payment_id == payment.id))
    }
    # 35% of 1,000.01 is 350.00 (half-even); 3 of 4 records are Alice's, 1 of 4 Bob's.
    assert shares == {alice.id: 26250, bob.id: 8750}
    assert payment.commons_cents == 100_001 - 35_000
    with pytest.raises(InvalidInput) as refused:
        ledger.record_payment(
            db_session,
            bylaws,
            licence.id,
            amount_cents=0,
            currency="EUR",
            note="",
            actor="t",
            at=later,
        )
    assert refused.value.code == Code.PAYMENT_AMOUNT_INVALID


def test_a_request_already_answered_cannot_be_licensed(db_session: Session, bylaws: Bylaws) -> None:
    seats = board(db_session, bylaws)
    asset = asset_of(db_session, bylaws)
    study = register(db_session, scopes=["access:request"])
    granted = access.request_access(
        db_session,
        bylaws,
        client=study,
        asset=asset,
        purpose="public-benefit",
        justification="An open purpose, granted at once.",
        at=T0,
    )
    with pytest.raises(Conflict) as refused:
        governance.propose(
            db_session,
            bylaws,
            author=seats["public"][0],
            kind=ProposalKind.LICENCE,
            title="License",
            text="",
            at=T0,
            access_request_id=granted.request.id,
        )
    assert refused.value.code == Code.ACCESS_REQUEST_NOT_PENDING


def amended_text(threshold: str = "3/4") -> str:
    text = default_bylaws_path().read_text(encoding="utf-8")
    return text.replace('version = "2026.1"', 'version = "2027.1"').replace(
        "[decisions.retire]              # an asset is withdrawn and its data deleted: the "
        "defaults apply",
        f'[decisions.retire]\nthreshold = "{threshold}"\ncomparison = "at-least"',
    )


def test_an_amendment_is_checked_before_it_can_be_proposed(
    db_session: Session, bylaws: Bylaws
) -> None:
    seats = board(db_session, bylaws)
    broken = amended_text().replace("seats = 3", "seats = 0", 1)
    with pytest.raises(InvalidInput) as refused:
        governance.propose(
            db_session,
            bylaws,
            author=seats["public"][0],
            kind=ProposalKind.AMEND_BYLAWS,
            title="Amend",
            text="",
            at=T0,
            bylaws_text=broken,
        )
    assert refused.value.code == Code.BYLAWS_TEXT_INVALID
    assert "classes.contributor.seats" in refused.value.params["problem"]


def test_an_amendment_applies_on_execution_and_open_proposals_keep_their_rules(
    db_session: Session, bylaws: Bylaws
) -> None:
    seats = board(db_session, bylaws)
    assert "3/4" in amended_text()
    amendment = governance.propose(
        db_session,
        bylaws,
        author=seats["public"][0],
        kind=ProposalKind.AMEND_BYLAWS,
        title="A higher bar for retiring",
        text="",
        at=T0,
        bylaws_text=amended_text(),
    )
    governance.open_voting(db_session, bylaws, amendment, actor="t", at=T0)
    retire_old = governance.propose(
        db_session,
        bylaws,
        author=seats["public"][0],
        kind=ProposalKind.RETIRE,
        title="Retire under the old rules",
        text="",
        at=T0,
        asset=asset_of(db_session, bylaws),
    )
    governance.open_voting(db_session, bylaws, retire_old, actor="t", at=T0)
    # Two yes of three seats in every class reach the amendment's bar (at least 2/3).
    pass_it(db_session, seats, amendment.id)
    custody.execute(db_session, amendment.id, actor="t", at=T0 + timedelta(hours=2), bylaws=bylaws)
    in_force = rulebook.in_force(db_session, bylaws)
    assert in_force.version == "2027.1"
    assert str(in_force.decisions[ProposalKind.RETIRE].per_class["public"].threshold) == "3/4"
    # The retirement opened before keeps 1/2; one opened now is decided at 3/4.
    assert retire_old.rules["classes"]["public"]["threshold"] == "1/2"
    retire_new = governance.propose(
        db_session,
        in_force,
        author=seats["public"][0],
        kind=ProposalKind.RETIRE,
        title="Retire under the new rules",
        text="",
        at=T0,
        asset=asset_of(db_session, bylaws, "b"),
    )
    governance.open_voting(db_session, in_force, retire_new, actor="t", at=T0 + timedelta(hours=3))
    assert retire_new.rules["classes"]["public"]["threshold"] == "3/4"
    assert retire_new.rules["version"] == "2027.1"


def test_lifting_the_lock_needs_the_higher_bar(db_session: Session, bylaws: Bylaws) -> None:
    seats = board(db_session, bylaws)
    asset = asset_of(db_session, bylaws)
    lift = governance.propose(
        db_session,
        bylaws,
        author=seats["public"][0],
        kind=ProposalKind.LIFT_LOCK,
        title="Lift the lock",
        text="",
        at=T0,
        asset=asset,
    )
    governance.open_voting(db_session, bylaws, lift, actor="t", at=T0)
    # Yes, no, yes in every class: after one yes and one no nothing is settled (a lift needs
    # at least 2/3); the third ballot makes exactly 2/3 and the last class's decides it.
    for members in seats.values():
        for member, choice in zip(members, [Ballot.YES, Ballot.NO, Ballot.YES], strict=True):
            assert lift.status == ProposalStatus.OPEN
            governance.cast(db_session, lift.id, member=member, choice=choice, at=T0)
    assert lift.status == ProposalStatus.PASSED
    custody.execute(db_session, lift.id, actor="t", at=T0 + timedelta(hours=1))
    assert asset.locked is False and asset.status == AssetStatus.HELD
    with pytest.raises(Conflict) as refused:  # nothing left to lift
        governance.propose(
            db_session,
            bylaws,
            author=seats["public"][0],
            kind=ProposalKind.LIFT_LOCK,
            title="Again",
            text="",
            at=T0,
            asset=asset,
        )
    assert refused.value.code == Code.ASSET_NOT_LOCKED


def test_a_retired_asset_cannot_be_proposed_again(db_session: Session, bylaws: Bylaws) -> None:
    seats = board(db_session, bylaws)
    asset = asset_of(db_session, bylaws)
    retire = governance.propose(
        db_session,
        bylaws,
        author=seats["public"][0],
        kind=ProposalKind.RETIRE,
        title="Retire",
        text="",
        at=T0,
        asset=asset,
    )
    governance.open_voting(db_session, bylaws, retire, actor="t", at=T0)
    pass_it(db_session, seats, retire.id)
    custody.execute(db_session, retire.id, actor="t", at=T0 + timedelta(hours=2))
    assert asset.status == AssetStatus.RETIRED
    with pytest.raises(Conflict):
        governance.propose(
            db_session,
            bylaws,
            author=seats["public"][0],
            kind=ProposalKind.TRANSFER,
            title="Transfer",
            text="",
            at=T0,
            asset=asset,
            recipient="X",
            recipient_locked=True,
        )


def class_members(make_member, member_class: str, count: int) -> list[Member]:  # type: ignore[no-untyped-def]
    return [make_member(member_class, name=f"{member_class} {n}") for n in range(count)]


def test_an_election_seats_the_most_voted_for_their_term(
    db_session: Session, bylaws: Bylaws, make_member
) -> None:  # type: ignore[no-untyped-def]
    voters = class_members(make_member, "community", 5)
    election = elections.call_election(
        db_session,
        bylaws,
        member_class="community",
        seat_numbers=[1, 2],
        opens_at=T0 + timedelta(days=1),
        closes_at=T0 + timedelta(days=8),
        term_months=24,
        actor="steward:test",
        at=T0,
    )
    candidates = [
        elections.add_candidate(db_session, election.id, member=m, statement="", actor="s", at=T0)
        for m in voters[:3]
    ]
    outsider = make_member("public")
    with pytest.raises(InvalidInput):
        elections.add_candidate(
            db_session, election.id, member=outsider, statement="", actor="s", at=T0
        )
    during = T0 + timedelta(days=2)
    with pytest.raises(Conflict):  # candidates are named before voting opens
        elections.add_candidate(
            db_session, election.id, member=voters[3], statement="", actor="s", at=during
        )
    votes = [0, 0, 1, 1, 2]  # candidates 0 and 1 get two votes each, 2 gets one
    for voter, choice in zip(voters, votes, strict=True):
        elections.vote(
            db_session,
            bylaws,
            election.id,
            voter=voter,
            candidate_id=candidates[choice].id,
            at=during,
        )
    with pytest.raises(Conflict) as twice:
        elections.vote(
            db_session,
            bylaws,
            election.id,
            voter=voters[0],
            candidate_id=candidates[1].id,
            at=during,
        )
    assert twice.value.code == Code.ELECTION_ALREADY_VOTED
    with pytest.raises(Forbidden):
        elections.vote(
            db_session,
            bylaws,
            election.id,
            voter=outsider,
            candidate_id=candidates[0].id,
            at=during,
        )
    after = T0 + timedelta(days=9)
    elections.settle(db_session, bylaws, election, after)
    assert sorted(election.result["winners"]) == sorted([voters[0].id, voters[1].id])
    seats = {s.number: s for s in voters[0].seats + voters[1].seats}
    assert set(seats) == {1, 2}
    for seat in seats.values():
        assert seat.held_by_at(seat.holder_id, after)
        assert not seat.held_by_at(seat.holder_id, election.closes_at + timedelta(days=800))
    with pytest.raises(Conflict):
        elections.vote(
            db_session,
            bylaws,
            election.id,
            voter=voters[3],
            candidate_id=candidates[2].id,
            at=after,
        )


@pytest.mark.parametrize("rule", ["seniority", "lot"])
def test_a_tie_is_settled_as_the_bylaws_say(
    db_session: Session, bylaws: Bylaws, make_member, rule: str
) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from cltd.rules.bylaws import TieBreak

    rules = replace(bylaws, election_tie_break=TieBreak(rule))
    voters = class_members(make_member, "public", 2)
    election = elections.call_election(
        db_session,
        rules,
        member_class="public",
        seat_numbers=[3],
        opens_at=T0 + timedelta(days=1),
        closes_at=T0 + timedelta(days=2),
        term_months=12,
        actor="s",
        at=T0,
    )
    first = elections.add_candidate(
        db_session, election.id, member=voters[0], statement="", actor="s", at=T0
    )
    second = elections.add_candidate(
        db_session, election.id, member=voters[1], statement="", actor="s", at=T0
    )
    during = T0 + timedelta(days=1, hours=1)
    elections.vote(
        db_session, rules, election.id, voter=voters[0], candidate_id=second.id, at=during
    )
    elections.vote(
        db_session, rules, election.id, voter=voters[1], candidate_id=first.id, at=during
    )
    elections.settle(db_session, rules, election, T0 + timedelta(days=3))
    tie = election.result["tie"]
    assert tie["rule"] == rule and sorted(tie["tied"]) == sorted(v.id for v in voters)
    assert len(election.result["winners"]) == 1
    if rule == "seniority":  # the member admitted first wins
        assert election.result["winners"] == [voters[0].id]
