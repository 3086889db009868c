"""Board proposals through the services, on both engines: the tripartite rule, the frozen
electorate, the close that needs no scheduler, and custody that moves only by a passed vote."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.db import make_engine, make_sessionmaker, session_scope
from cltd.models import AssetStatus, AuditEntry, BallotRow, Member, ProposalStatus
from cltd.rules.bylaws import Bylaws, ProposalKind
from cltd.rules.codes import Code
from cltd.rules.tally import Ballot
from cltd.services import assets, custody, governance
from cltd.services.errors import Conflict, Forbidden
from cltd.services.members import add_member
from cltd.services.seats import assign_seat

T0 = now()


def board(session: Session, bylaws: Bylaws) -> dict[str, list[Member]]:
    """Three seats in each class, each with its holder."""
    seated: dict[str, list[Member]] = {}
    for member_class in bylaws.class_keys():
        seated[member_class] = []
        for number in (1, 2, 3):
            member = add_member(
                session,
                bylaws,
                email=f"{member_class}{number}-{id(session)}@b.org",
                display_name=f"{member_class} {number}",
                member_class=member_class,
                password="a long enough password",
                actor="test",
                at=T0,
            )
            assign_seat(
                session,
                bylaws,
                member=member,
                member_class=member_class,
                number=number,
                actor="test",
                at=T0,
            )
            seated[member_class].append(member)
    return seated


def transfer_of_locked_asset(
    session: Session, bylaws: Bylaws, author: Member, *, locked_recipient: bool = True
):  # type: ignore[no-untyped-def]
    asset = assets.create_asset(
        session,
        bylaws,
        slug=f"a-{id(author)}",
        title={"en": "A"},
        description={},
        keywords=[],
        actor="test",
        at=T0,
    )
    proposal = governance.propose(
        session,
        bylaws,
        author=author,
        kind=ProposalKind.TRANSFER,
        title="Move it to the Northern trust",
        text="Why.",
        at=T0,
        asset=asset,
        recipient="Northern Community Data Trust",
        recipient_locked=locked_recipient,
    )
    governance.open_voting(session, bylaws, proposal, actor="test", at=T0)
    return asset, proposal


def vote(session: Session, proposal_id: int, members: list[Member], choice: Ballot) -> None:
    for member in members:
        governance.cast(
            session, proposal_id, member=member, choice=choice, at=T0 + timedelta(hours=1)
        )


def test_six_of_nine_is_not_enough_when_one_class_is_against(
    db_session: Session, bylaws: Bylaws
) -> None:
    seats = board(db_session, bylaws)
    contributor, community, public = bylaws.class_keys()
    asset, proposal = transfer_of_locked_asset(db_session, bylaws, seats[contributor][0])
    vote(db_session, proposal.id, seats[contributor] + seats[community], Ballot.YES)
    vote(db_session, proposal.id, seats[public][:2], Ballot.NO)
    # Two of three public seats against: no remaining ballot can save it, so it closes now.
    assert proposal.status == ProposalStatus.REJECTED
    assert proposal.closed_at is not None and proposal.closed_at < proposal.closes_at
    with pytest.raises(Conflict):
        vote(db_session, proposal.id, seats[public][2:], Ballot.NO)
    after_close = proposal.closes_at + timedelta(seconds=1)
    with pytest.raises(Conflict):
        custody.execute(db_session, proposal.id, actor="test", at=after_close)
    assert asset.status == AssetStatus.HELD


def test_a_passed_transfer_moves_custody_once(db_session: Session, bylaws: Bylaws) -> None:
    seats = board(db_session, bylaws)
    asset, proposal = transfer_of_locked_asset(db_session, bylaws, seats["contributor"][0])
    vote(db_session, proposal.id, [m for ms in seats.values() for m in ms[:2]], Ballot.YES)
    later = proposal.closes_at
    custody.execute(db_session, proposal.id, actor="test", at=later)
    assert (asset.status, proposal.status) == (AssetStatus.TRANSFERRED, ProposalStatus.EXECUTED)
    with pytest.raises(Conflict):  # executed once: never again
        custody.execute(db_session, proposal.id, actor="test", at=later)
    actions = db_session.scalars(select(AuditEntry.action)).all()
    assert actions.count("custody.changed") == 1


def test_a_locked_asset_cannot_even_be_proposed_to_an_unlocked_company(
    db_session: Session, bylaws: Bylaws
) -> None:
    seats = board(db_session, bylaws)
    with pytest.raises(Forbidden) as refused:
        transfer_of_locked_asset(db_session, bylaws, seats["public"][0], locked_recipient=False)
    assert refused.value.code == Code.LOCKED_ASSET_UNLOCKED_RECIPIENT


def test_the_electorate_is_the_seat_holders_at_opening(db_session: Session, bylaws: Bylaws) -> None:
    seats = board(db_session, bylaws)
    _asset, proposal = transfer_of_locked_asset(db_session, bylaws, seats["community"][0])
    newcomer = add_member(
        db_session,
        bylaws,
        email="late@b.org",
        display_name="Late",
        member_class="community",
        password="a long enough password",
        actor="test",
        at=T0,
    )
    assign_seat(
        db_session,
        bylaws,
        member=newcomer,
        member_class="community",
        number=1,
        actor="test",
        at=T0 + timedelta(minutes=5),
    )
    with pytest.raises(Forbidden):
        governance.cast(
            db_session, proposal.id, member=newcomer, choice=Ballot.YES, at=T0 + timedelta(hours=1)
        )
    governance.cast(
        db_session,
        proposal.id,
        member=seats["community"][0],
        choice=Ballot.YES,
        at=T0 + timedelta(hours=1),
    )


def test_a_ballot_changes_until_the_close_and_nothing_counts_after(
    db_session: Session, bylaws: Bylaws
) -> None:
    seats = board(db_session, bylaws)
    _asset, proposal = transfer_of_locked_asset(db_session, bylaws, seats["public"][0])
    member = seats["public"][0]
    governance.cast(db_session, proposal.id, member=member, choice=Ballot.YES, at=T0)
    governance.cast(
        db_session, proposal.id, member=member, choice=Ballot.NO, at=T0 + timedelta(hours=2)
    )
    rows = db_session.scalars(select(BallotRow).where(BallotRow.proposal_id == proposal.id)).all()
    assert [(r.choice) for r in rows] == ["no"]
    with pytest.raises(Conflict):
        governance.cast(
            db_session, proposal.id, member=member, choice=Ballot.YES, at=proposal.closes_at
        )


def test_a_ballot_that_waited_for_the_lock_does_not_close_before_one_already_counted(
    db_session: Session, bylaws: Bylaws
) -> None:
    """Each request reads the clock before it waits for the proposal's lock, so ballots can
    arrive in lock order with earlier times than the one before; the early close they cause
    is still at or after every ballot it counts (seen once in CI on PostgreSQL)."""
    seats = board(db_session, bylaws)
    _asset, proposal = transfer_of_locked_asset(db_session, bylaws, seats["contributor"][0])
    voters = [m for ms in seats.values() for m in ms]
    latest = T0 + timedelta(hours=2)
    for turn, member in enumerate(voters):
        try:
            governance.cast(
                db_session,
                proposal.id,
                member=member,
                choice=Ballot.YES,
                at=latest - timedelta(minutes=turn),  # each read its clock a little earlier
            )
        except Conflict:
            break
    assert proposal.status == ProposalStatus.PASSED
    assert proposal.closed_at is not None and proposal.closed_at < proposal.closes_at
    rows = db_session.scalars(select(BallotRow).where(BallotRow.proposal_id == proposal.id)).all()
    assert max(r.cast_at for r in rows) == latest <= proposal.closed_at
    [closing] = db_session.scalars(
        select(AuditEntry).where(
            AuditEntry.subject == f"proposal:{proposal.id}", AuditEntry.action == "proposal.closed"
        )
    ).all()
    assert closing.at >= latest


def test_ballots_racing_the_close_count_once_and_match_the_audit_recount(
    fresh_database: tuple[str, Engine], bylaws: Bylaws
) -> None:
    """Every seat holder votes again and again from their own connection while the deadline
    passes: each seat counts once, nothing cast after the close counts, and the stored tally
    equals a recount of the ballots in the audit log."""
    url, _engine = fresh_database
    engine = make_engine(url, pool_size=20, max_overflow=0)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        seats = board(session, bylaws)
        _asset, proposal = transfer_of_locked_asset(session, bylaws, seats["contributor"][0])
        proposal.closes_at = now() + timedelta(seconds=1.5)
        proposal_id, closes_at = proposal.id, proposal.closes_at
        voters = [m.id for ms in seats.values() for m in ms]
    barrier = threading.Barrier(len(voters))
    errors: list[BaseException] = []
    refused_after_close = []

    def keep_voting(member_id: int) -> None:
        choices = [*[Ballot.YES, Ballot.NO, Ballot.ABSTAIN][member_id % 3 :], Ballot.YES]
        try:
            barrier.wait(timeout=30)
            turn = 0
            while now() < closes_at + timedelta(seconds=0.5):
                try:
                    with session_scope(sessions) as session:
                        member = session.get(Member, member_id)
                        governance.cast(
                            session,
                            proposal_id,
                            member=member,
                            choice=choices[turn % len(choices)],
                            at=now(),
                        )
                except Conflict as refusal:
                    assert refusal.code == Code.PROPOSAL_CLOSED
                    refused_after_close.append(member_id)
                    return
                turn += 1
        except BaseException as error:  # gathered below
            errors.append(error)

    threads = [threading.Thread(target=keep_voting, args=(m,)) for m in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors[:3]
    assert set(refused_after_close) == set(voters)  # everyone met the close
    with session_scope(sessions) as session:
        proposal = governance.get_proposal(session, proposal_id)
        governance.settle(session, proposal, now())
        assert proposal.status in (ProposalStatus.PASSED, ProposalStatus.REJECTED)
        rows = session.scalars(select(BallotRow).where(BallotRow.proposal_id == proposal_id)).all()
        assert len({r.seat_id for r in rows}) == len(rows) <= len(voters)
        assert all(r.cast_at <= proposal.closed_at for r in rows)
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject == f"proposal:{proposal_id}")
            .order_by(AuditEntry.seq)
        ).all()
        closing = [e for e in entries if e.action == "proposal.closed"]
        assert len(closing) == 1
        last_choice: dict[int, tuple[str, str]] = {}
        for entry in entries:
            if entry.action == "ballot.cast":
                assert entry.seq < closing[0].seq, "a ballot was recorded after the close"
                details = json.loads(entry.details)
                last_choice[details["seat"]] = (details["class"], details["choice"])
        recount = {
            c: {
                k: sum(1 for cls, ch in last_choice.values() if cls == c and ch == k)
                for k in ("yes", "no", "abstain")
            }
            for c in bylaws.class_keys()
        }
        stored = governance.current_tally(session, proposal)
        assert {
            r.member_class: {"yes": r.count.yes, "no": r.count.no, "abstain": r.count.abstain}
            for r in stored.classes
        } == recount
        published = json.loads(closing[0].details)["classes"]
        assert {c: {k: v[k] for k in ("yes", "no", "abstain")} for c, v in published.items()} == (
            recount
        )
    engine.dispose()
