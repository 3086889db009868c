"""Issue 9 in a real browser, through the pages of both trusts: Riverside's board passes a
transfer of a locked asset to Northern, Northern's board accepts it, and afterwards Riverside's
contributor finds the move in "Who used my data" while Northern holds the asset."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from cltd.adapters.clock import now
from cltd.db import make_sessionmaker, session_scope
from cltd.services import assets, consents, peers, records
from cltd.services.members import add_member
from tests.browser.conftest import one_seat_bylaws, seat_voters
from tests.browser.test_board_vote import sign_in
from tests.conftest import TEST_PASSWORD, DatabaseFactory, make_settings
from tests.federation.conftest import LiveTrust
from tests.federation.transfer_support import held, ring, work

VOTERS = ("contributor", "community", "public")


def small_trust(
    databases: DatabaseFactory, tmp_path: Path, name: str, prefix: str
) -> tuple[LiveTrust, object]:
    """A trust with one seat per class, each held (PREFIX-contributor@… and so on), and a
    steward; served on a loopback port."""
    from cltd.web import create_app

    governance = tmp_path / name / "governance"
    bylaws = one_seat_bylaws(governance)
    url, engine = databases.new_migrated()
    sessions = make_sessionmaker(engine, writes=True)
    with session_scope(sessions) as session:
        seat_voters(session, bylaws, {c: f"{prefix}-{c}@example.org" for c in VOTERS})
        add_member(
            session,
            bylaws,
            email=f"{prefix}-steward@example.org",
            display_name=f"{prefix.title()} steward",
            member_class="community",
            password=TEST_PASSWORD,
            actor="steward:test",
            at=now(),
            is_steward=True,
        )
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    base = f"http://127.0.0.1:{server.server_port}"
    settings = make_settings(
        tmp_path / name / "data",
        url,
        trust_name=name,
        base_url=base,
        allow_loopback_peers=True,
        bylaws_path=governance / "bylaws.toml",
    )
    server.app = create_app(settings, engine=engine)  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return LiveTrust(name, base, settings, engine, sessions, bylaws), server


@pytest.fixture
def two_trusts(databases: DatabaseFactory, tmp_path: Path) -> Iterator[tuple[LiveTrust, LiveTrust]]:
    a, a_server = small_trust(databases, tmp_path, "Riverside Trust", "r")
    b, b_server = small_trust(databases, tmp_path, "Northern Trust", "n")
    for here, there in ((a, b), (b, a)):
        intro = peers.introduce(here.fetcher(), there.url)
        with session_scope(here.sessions) as session:
            peers.pin(session, intro, actor="steward:test", at=now())
    with session_scope(a.sessions) as session:
        asset = assets.create_asset(
            session,
            a.bylaws,
            slug="repairs",
            title={"en": "Repairs log"},
            description={"en": "What needed fixing, where."},
            keywords=["housing"],
            actor="steward:test",
            at=now(),
            fields=[{"name": "street", "type": "text"}],
            permitted={"public-benefit": ["street"]},
        )
        dana = add_member(
            session,
            a.bylaws,
            email="dana@example.org",
            display_name="Dana",
            member_class="contributor",
            password=TEST_PASSWORD,
            actor="steward:test",
            at=now(),
        )
        consents.grant(
            session,
            a.bylaws.taxonomy,
            member=dana,
            asset_id=None,
            purpose="public-benefit",
            at=now(),
        )
        for street in ("Mill Lane", "Canal Street"):
            records.contribute(
                session, ring(a), asset=asset, member=dana, values={"street": street}, at=now()
            )
    yield a, b
    for server, trust in ((a_server, a), (b_server, b)):
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]
        trust.engine.dispose()


def vote_through(page, trust: LiveTrust, prefix: str, proposal_url: str) -> None:  # type: ignore[no-untyped-def]
    """Each seat holder signs in and votes yes; the last one carries the decision out."""
    for member_class in VOTERS:
        page.get_by_test_id("signout").click()
        sign_in(page, trust, f"{prefix}-{member_class}@example.org")  # type: ignore[arg-type]
        page.goto(proposal_url)
        page.get_by_test_id("vote-yes").click()
        page.get_by_test_id("tally").wait_for()
    assert page.get_by_test_id("proposal-status").get_attribute("data-status") == "passed"
    page.get_by_test_id("execute-proposal").click()
    assert page.get_by_test_id("proposal-status").get_attribute("data-status") == "executed"


def test_a_locked_asset_moves_between_trusts_through_the_pages(
    two_trusts: tuple[LiveTrust, LiveTrust], page
) -> None:  # type: ignore[no-untyped-def]
    a, b = two_trusts

    # Riverside: a board member drafts the transfer to a trust it pins, the board passes it.
    sign_in(page, a, "r-contributor@example.org")  # type: ignore[arg-type]
    page.get_by_test_id("nav-board").click()
    page.get_by_test_id("field-kind").select_option("transfer")
    page.get_by_test_id("field-title").fill("The repairs log to Northern")
    page.get_by_test_id("field-asset_id").select_option(label="Repairs log 🔒")
    page.get_by_test_id("field-recipient_peer_id").select_option(label=f"{b.name} · {b.url}")
    page.get_by_test_id("draft-proposal").click()
    page.get_by_test_id("open-proposal").click()
    vote_through(page, a, "r", page.url)
    page.get_by_test_id("asset-link").click()
    assert page.get_by_test_id("asset-status").get_attribute("data-status") == "held"
    assert (
        f"Offered to {b.name} by decision of the board"
        in page.get_by_test_id("asset-history").inner_text()
    )
    work(a)  # Riverside's worker sends the signed offer

    # Northern: the offer waits on the board page; the board puts it to a vote and accepts.
    page.get_by_test_id("signout").click()
    sign_in(page, b, "n-public@example.org")  # type: ignore[arg-type]
    page.get_by_test_id("nav-board").click()
    offer = page.get_by_test_id("offers-waiting")
    assert "Repairs log" in offer.inner_text() and a.name in offer.inner_text()
    offer.get_by_role("button", name="Put to the board").click()
    assert page.get_by_test_id("proposal-status").get_attribute("data-status") == "open"
    vote_through(page, b, "n", page.url)
    work(b)  # Northern's worker fetches the records, accepts them, and takes the asset

    page.get_by_test_id("signout").click()
    sign_in(page, b, "n-steward@example.org")  # type: ignore[arg-type]
    page.get_by_test_id("nav-transfers").click()
    received = page.get_by_test_id("offers-received")
    assert received.locator("tr[data-state='completed']").count() == 1
    page.goto(b.url + "/")
    assert "Repairs log" in page.content()
    assert held(b, "repairs") and not held(a, "repairs")

    # Riverside: the contributor sees where her records went; the asset is a tombstone.
    page.goto(a.url + "/signin")
    sign_in(page, a, "dana@example.org")  # type: ignore[arg-type]
    page.goto(a.url + "/my-data/uses")
    move = page.get_by_test_id("move")
    assert move.count() == 1 and b.name in move.inner_text() and "2" in move.inner_text()
