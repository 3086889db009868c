"""The board in a real browser: a board member drafts and opens a transfer, three board members
(one seat per class here) vote through the pages, the tally bars and the outcome show, and the
executed transfer appears in the asset's history."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from werkzeug.serving import make_server

from cltd.adapters.clock import now
from cltd.db import make_sessionmaker, session_scope
from cltd.services import assets
from tests.browser.conftest import LiveTrust, one_seat_bylaws, seat_voters
from tests.conftest import TEST_PASSWORD, make_settings

VOTERS = {"contributor": "ana@b.org", "community": "ben@b.org", "public": "cleo@b.org"}


@pytest.fixture
def small_board_trust(fresh_database: tuple[str, Engine], tmp_path: Path) -> Iterator[LiveTrust]:
    """A trust whose bylaws give each class one seat, each held; and one locked asset."""
    from cltd.web import create_app

    bylaws = one_seat_bylaws(tmp_path / "governance")
    url, engine = fresh_database
    with session_scope(make_sessionmaker(engine)) as session:
        seat_voters(session, bylaws, VOTERS)
        assets.create_asset(
            session,
            bylaws,
            slug="repairs",
            title={"en": "Repairs log"},
            description={},
            keywords=[],
            actor="steward:test",
            at=now(),
            fields=[{"name": "v", "type": "text"}],
        )
    app = create_app(
        make_settings(tmp_path / "data", url, bylaws_path=tmp_path / "governance" / "bylaws.toml"),
        engine=engine,
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveTrust(f"http://127.0.0.1:{server.server_port}", engine)
    finally:
        server.shutdown()
        thread.join(timeout=10)


def sign_in(page, trust: LiveTrust, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(trust.url + "/signin")
    page.get_by_test_id("field-email").fill(email)
    page.get_by_test_id("field-password").fill(TEST_PASSWORD)
    page.get_by_test_id("signin-submit").click()
    page.get_by_test_id("signed-in-as").wait_for()


def test_three_classes_vote_a_transfer_through_the_pages(
    small_board_trust: LiveTrust, page
) -> None:  # type: ignore[no-untyped-def]
    trust = small_board_trust
    sign_in(page, trust, VOTERS["contributor"])
    page.get_by_test_id("nav-board").click()
    page.get_by_test_id("field-kind").select_option("transfer")
    page.get_by_test_id("field-title").fill("Move the repairs log to the Northern trust")
    page.get_by_test_id("field-text").fill("They run the repair programme now.")
    page.get_by_test_id("field-asset_id").select_option(label="Repairs log 🔒")
    page.get_by_test_id("field-recipient").fill("Northern Community Data Trust")
    page.get_by_test_id("field-recipient_locked").check()
    page.get_by_test_id("draft-proposal").click()
    assert page.get_by_test_id("proposal-status").get_attribute("data-status") == "draft"
    page.get_by_test_id("open-proposal").click()
    assert page.get_by_test_id("proposal-status").get_attribute("data-status") == "open"
    assert page.get_by_test_id("time-left").is_visible()
    proposal_url = page.url

    for number, email in enumerate(VOTERS.values(), start=1):
        if number > 1:
            page.get_by_test_id("signout").click()
            sign_in(page, trust, email)
            page.goto(proposal_url)
        page.get_by_test_id("vote-yes").click()
        page.get_by_test_id("tally").wait_for()
        bars = page.get_by_test_id("turnout-bar")
        assert bars.count() == 3
        voted = [float(bars.nth(i).get_attribute("value")) for i in range(3)]
        assert sorted(voted, reverse=True) == [100.0] * number + [0.0] * (3 - number)
        if number < 3:
            assert page.get_by_test_id("my-ballot").is_visible()

    assert page.get_by_test_id("proposal-status").get_attribute("data-status") == "passed"
    assert "Passed in every class" in page.get_by_test_id("outcome").inner_text()
    assert page.get_by_test_id("class-passes").count() == 3
    page.get_by_test_id("execute-proposal").click()
    assert page.get_by_test_id("proposal-status").get_attribute("data-status") == "executed"

    page.get_by_test_id("asset-link").click()
    assert page.get_by_test_id("asset-status").get_attribute("data-status") == "transferred"
    history = page.get_by_test_id("asset-history").inner_text()
    assert "Transferred to Northern Community Data Trust by decision of the board" in history
    assert page.get_by_test_id("history-ballot.cast").count() == 3
