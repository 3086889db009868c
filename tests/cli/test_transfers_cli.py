"""`cltd transfers` and `cltd proposals draft --to-peer` from a steward's terminal: offers
listed, accepted or refused as the bylaws say, put to the board, a transfer drafted to a pinned
peer and carried out as an offer; one line with exit 2 for each kind of bad input."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cltd.db import make_engine
from tests.cli.support import cltd, database_of, query
from tests.cli.test_board_cli import admit, seat_everyone
from tests.support import pin_test_peer, transfer_row


@contextmanager
def database(trust: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{database_of(trust)}")
    try:
        with Session(engine) as session:
            yield session
            session.commit()
    finally:
        engine.dispose()


def offers(trust: Path, *titles: str, locked: bool = True) -> list[int]:
    """A pinned peer and one offer received from it per title; their ids."""
    with database(trust) as session:
        peer = pin_test_peer(session, locked=locked)
        return [transfer_row(session, peer, title=title).id for title in titles]


def give_offers_to_the_steward(trust: Path) -> None:
    path = trust / "bylaws.toml"
    text = path.read_text(encoding="utf-8")
    assert 'incoming = "board"' in text
    path.write_text(text.replace('incoming = "board"', 'incoming = "steward"'), encoding="utf-8")


def state(trust: Path, transfer_id: int) -> str:
    return str(query(trust, "select state from transfers where id = ?", transfer_id)[0][0])


def test_the_steward_lists_accepts_and_refuses_where_the_bylaws_say_so(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    give_offers_to_the_steward(trust)
    housing, floods = offers(trust, "Housing survey", "Flood reports")
    listed = cltd(capsys, "--data-dir", trust, "transfers", "list")
    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    assert [line.split("\t")[:6] for line in lines] == [
        [str(floods), "incoming", "offered", "Northern Community Data Trust", "Flood reports", "6"],
        [
            str(housing),
            "incoming",
            "offered",
            "Northern Community Data Trust",
            "Housing survey",
            "6",
        ],
    ]
    accepted = cltd(capsys, "--data-dir", trust, "transfers", "accept", str(housing))
    assert accepted.code == 0, accepted.err
    assert "Accepted." in accepted.out
    assert state(trust, housing) == "accepted"
    refused = cltd(
        capsys, "--data-dir", trust, "transfers", "refuse", str(floods), "--reason", "No room"
    )
    assert refused.code == 0, refused.err
    assert state(trust, floods) == "refused"
    assert query(trust, "select reason from transfers where id = ?", floods) == [("No room",)]
    kinds = query(trust, "select kind from outbox order by id")
    assert kinds == [("transfer.accept",), ("transfer.refuse",)]
    again = cltd(capsys, "--data-dir", trust, "transfers", "accept", str(housing))
    assert "no longer waiting for a decision" in again.assert_one_error_line()


def test_under_board_bylaws_the_offer_is_put_to_the_board(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seat_everyone(capsys, trust)
    (housing,) = offers(trust, "Housing survey")
    alone = cltd(capsys, "--data-dir", trust, "transfers", "accept", str(housing))
    assert "put the offer to the board" in alone.assert_one_error_line()
    assert state(trust, housing) == "offered"
    put = cltd(
        capsys, "--data-dir", trust, "transfers", "propose", str(housing), "--as", "public1@t.org"
    )
    assert put.code == 0, put.err
    assert "voting is open until" in put.out
    rows = query(trust, "select kind, status, transfer_pk, title from proposals")
    assert rows == [
        (
            "accept_asset",
            "open",
            housing,
            "Accept “Housing survey” from Northern Community Data Trust",
        )
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("transfers", "accept", "999"), "There is no such transfer."),
        (("transfers", "refuse", "999", "--reason", "No"), "There is no such transfer."),
        (("transfers", "accept", "first"), "is not a valid integer"),
        (("transfers", "refuse", "OFFER"), "--reason"),
        (("transfers", "refuse", "OFFER", "--reason", "  "), "Say why the offer is refused"),
        (("transfers", "propose", "OFFER", "--as", "nobody@t.org"), "nobody@t.org"),
        (("transfers", "propose", "OFFER"), "--as"),
        (("transfers", "propose", "999", "--as", "member@t.org"), "There is no such transfer."),
        (("transfers", "propose", "OFFER", "--as", "member@t.org"), "board seat"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    trust: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    admit(capsys, trust, "member@t.org", "community")
    (offer,) = offers(trust, "Housing survey")
    line = cltd(
        capsys, "--data-dir", trust, *[str(offer) if a == "OFFER" else a for a in args]
    ).assert_one_error_line()
    assert expected in line
    assert state(trust, offer) == "offered"
    assert query(trust, "select count(*) from proposals") == [(0,)]


def test_a_transfer_drafted_to_a_pinned_peer_is_carried_out_as_an_offer(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seat_everyone(capsys, trust)
    spec = trust.parent / "survey.toml"
    spec.write_text(
        'slug = "survey"\ntitle = {en = "Survey"}\nfields = [{name = "street", type = "text"}]\n'
    )
    assert cltd(capsys, "--data-dir", trust, "assets", "create", spec).code == 0
    asset_id = query(trust, "select id from assets where slug = 'survey'")[0][0]
    offers(trust)  # pins the peer
    draft = (
        "proposals",
        "draft",
        "--as",
        "public1@t.org",
        "--kind",
        "transfer",
        "--title",
        "To the Northern trust",
        "--asset",
        str(asset_id),
    )
    unknown = cltd(capsys, "--data-dir", trust, *draft, "--to-peer", "https://nowhere.example")
    assert "pins no such peer" in unknown.assert_one_error_line()
    drafted = cltd(capsys, "--data-dir", trust, *draft, "--to-peer", "https://northern.example/")
    assert drafted.code == 0, drafted.err
    ((proposal_id, recipient, locked, peer_id),) = query(
        trust, "select id, recipient, recipient_locked, recipient_peer_id from proposals"
    )
    assert (recipient, locked, peer_id) == ("Northern Community Data Trust", 1, 1)
    assert cltd(capsys, "--data-dir", trust, "proposals", "open", str(proposal_id)).code == 0
    with database(trust) as session:  # as if the board had voted yes
        from cltd.models import Proposal

        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        proposal.status, proposal.closed_seq = "passed", 1
    execute = ("--data-dir", trust, "proposals", "execute", str(proposal_id))
    no_base = cltd(capsys, *execute)
    assert "base_url" in no_base.assert_one_error_line()
    with (trust / "config.toml").open("a", encoding="utf-8") as config:
        config.write('base_url = "https://ours.example/trust"\n')
    done = cltd(capsys, *execute)
    assert done.code == 0, done.err
    assert query(trust, "select direction, state, our_base, asset_id from transfers") == [
        ("outgoing", "offered", "https://ours.example", asset_id)
    ]
    listed = cltd(capsys, "--data-dir", trust, "transfers", "list")
    assert listed.out.split("\t")[1:5] == [
        "outgoing",
        "offered",
        "Northern Community Data Trust",
        "Survey",
    ]


def test_accept_asset_is_not_drafted_by_hand(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = cltd(
        capsys,
        "--data-dir",
        trust,
        "proposals",
        "draft",
        "--as",
        "x@t.org",
        "--kind",
        "accept_asset",
        "--title",
        "Take it",
    ).assert_one_error_line()
    assert "accept_asset" in line
