"""A live trust on a loopback port and Debian's chromium driven by Playwright.

Never lets Playwright fetch a browser of its own: it launches /usr/bin/chromium. Without that
binary the browser tests skip with a reason (fail under CLTD_TEST_STRICT=1, as in CI).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from cltd.adapters.clock import now
from cltd.db import make_sessionmaker, session_scope
from cltd.resources import default_bylaws_path
from cltd.rules.bylaws import Bylaws, load_bylaws
from cltd.services.members import add_member
from cltd.services.seats import assign_seat
from tests.conftest import TEST_PASSWORD, make_settings, skip_or_fail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class LiveTrust:
    url: str
    engine: Engine


@pytest.fixture
def live_trust(
    fresh_database: tuple[str, Engine], tmp_path: Path, bylaws: Bylaws
) -> Iterator[LiveTrust]:
    from cltd.web import create_app

    url, engine = fresh_database
    app = create_app(make_settings(tmp_path, url), engine=engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveTrust(f"http://127.0.0.1:{server.server_port}", engine)
    finally:
        server.shutdown()
        thread.join(timeout=10)


def admit(trust: LiveTrust, bylaws: Bylaws, email: str, name: str, **extra: object) -> None:
    with session_scope(make_sessionmaker(trust.engine)) as session:
        add_member(
            session,
            bylaws,
            email=email,
            display_name=name,
            member_class=str(extra.pop("member_class", bylaws.class_keys()[0])),
            password=TEST_PASSWORD,
            actor="steward:test",
            at=now(),
            **extra,  # type: ignore[arg-type]
        )


def one_seat_bylaws(folder: Path) -> Bylaws:
    """The default bylaws with one seat per class, written to FOLDER (beside the purposes)."""
    folder.mkdir(parents=True)
    shutil.copy(default_bylaws_path().parent / "purposes.toml", folder)
    text = default_bylaws_path().read_text(encoding="utf-8").replace("seats = 3", "seats = 1")
    (folder / "bylaws.toml").write_text(text, encoding="utf-8")
    return load_bylaws(folder / "bylaws.toml")


def seat_voters(session: Session, bylaws: Bylaws, voters: dict[str, str]) -> None:
    """Admit each {class: email} voter and give them their class's seat 1."""
    for member_class, email in voters.items():
        member = add_member(
            session,
            bylaws,
            email=email,
            display_name=email.split("@")[0].title(),
            member_class=member_class,
            password=TEST_PASSWORD,
            actor="steward:test",
            at=now(),
        )
        assign_seat(
            session,
            bylaws,
            member=member,
            member_class=member_class,
            number=1,
            actor="steward:test",
            at=now(),
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        skip_or_fail(f"no browser: {CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
