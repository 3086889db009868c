"""Board proposals through the services, on both engines: the tripartite rule, the frozen
electorate, the close that needs no scheduler, and custody that moves only by a passed vote."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
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
    vote(db_session, proposal.id, seats[public], Ballot.NO)
    after_close = proposal.closes_at + timedelta(seconds=1)
    governance.settle(db_session, proposal, after_close)
    assert proposal.status == ProposalStatus.REJECTED
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


def test_concurrent_ballots_count_once_per_seat(
    fresh_database: tuple[str, Engine], bylaws: Bylaws
) -> None:
    """Every seat holder votes at once from their own connection, twice each."""
    url, _engine = fresh_database
    engine = make_engine(url, pool_size=20, max_overflow=0)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        seats = board(session, bylaws)
        _asset, proposal = transfer_of_locked_asset(session, bylaws, seats["contributor"][0])
        proposal_id = proposal.id
        voters = [m.id for ms in seats.values() for m in ms]
    barrier = threading.Barrier(len(voters) * 2)
    errors: list[BaseException] = []

    def ballot(member_id: int, choice: Ballot) -> None:
        try:
            barrier.wait(timeout=30)
            with session_scope(sessions) as session:
                member = session.get(Member, member_id)
                governance.cast(session, proposal_id, member=member, choice=choice, at=now())
        except BaseException as error:  # gathered below
            errors.append(error)

    threads = [
        threading.Thread(target=ballot, args=(m, c))
        for m in voters
        for c in (Ballot.YES, Ballot.NO)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors[:3]
    with session_scope(sessions) as session:
        count = session.scalar(
            select(func.count()).select_from(BallotRow).where(BallotRow.proposal_id == proposal_id)
        )
    assert count == len(voters)
    engine.dispose()
