"""Test harness: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL comes from --postgres-url or CLTD_TEST_POSTGRES_URL (a server URL; each run makes
its own databases and drops them). Without one, PostgreSQL cases skip with a reason, unless
CLTD_TEST_STRICT=1 (set by .ci/run), which turns every such skip into a failure.

The schema is built by the Alembic migrations, never by create_all. Each test gets a session
inside an outer transaction that is rolled back afterwards (a savepoint per request or commit),
so tests do not see each other's rows. Tests that need real commits from many connections ask
for `fresh_database` instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from cltd.adapters import migrations
from cltd.adapters.clock import now
from cltd.config import Settings
from cltd.db import make_engine
from cltd.models import Member
from cltd.resources import default_bylaws_path
from cltd.rules.bylaws import Bylaws, load_bylaws
from cltd.services import members as member_service

# CI shares two cores between the suite and its databases: an example's wall time says
# nothing about the code, so generated tests get no per-example deadline.
hypothesis_settings.register_profile("cltd", deadline=None)
hypothesis_settings.load_profile("cltd")

BACKENDS = ("sqlite", "postgresql")
TEST_PASSWORD = "correct horse battery staple"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres-url",
        default=os.environ.get("CLTD_TEST_POSTGRES_URL"),
        help="PostgreSQL server URL for the PostgreSQL half of the storage tests.",
    )


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    """One line per reason a test skipped, with how many it skipped, instead of one per test."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line(f"SKIPPED {count} tests: {reason}")


def strict() -> bool:
    return os.environ.get("CLTD_TEST_STRICT") == "1"


def skip_or_fail(reason: str) -> None:
    if strict():
        pytest.fail(f"{reason} (CLTD_TEST_STRICT=1: nothing may skip in CI)")
    pytest.skip(reason)


@dataclass
class DatabaseFactory:
    """Makes empty, migrated databases of one backend, and removes them at the end."""

    backend: str
    server_url: str | None
    tmp_dir: Path
    created: list[str]

    def new_url(self) -> str:
        name = f"cltd_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp_dir / (name + '.sqlite3')}"
        assert self.server_url is not None
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        url = make_url(self.server_url).set(database=name)
        return url.render_as_string(hide_password=False)

    def new_migrated(self) -> tuple[str, Engine]:
        url = self.new_url()
        engine = make_engine(url)
        migrations.upgrade(engine)
        return url, engine

    def drop_all(self) -> None:
        if self.backend != "postgresql" or not self.created:
            return
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")  # type: ignore[arg-type]
        with admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _server_url(config: pytest.Config) -> str | None:
    url = config.getoption("--postgres-url")
    if not url:
        return None
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not _server_url(request.config):
        skip_or_fail("no PostgreSQL configured (set CLTD_TEST_POSTGRES_URL or --postgres-url)")
    return request.param


@pytest.fixture(scope="session")
def databases(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(
        backend, _server_url(request.config), tmp_path_factory.mktemp(f"db-{backend}"), []
    )
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def engine(databases: DatabaseFactory) -> Iterator[Engine]:
    _url, engine = databases.new_migrated()
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_database(databases: DatabaseFactory) -> Iterator[tuple[str, Engine]]:
    """An empty migrated database of this backend, for tests that commit for real."""
    url, engine = databases.new_migrated()
    yield url, engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[object]:
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def session_factory(connection: object) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture(autouse=True)
def _dispose_engines_made_by_the_test(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close the pools of every engine the test makes (its apps', its CLI runs', its own
    concurrent pools), even when it fails, so no connection is left for the garbage collector
    to complain about in a later test. Every engine is made by cltd.db.make_engine, whichever
    name it was imported under, and that calls cltd.db's create_engine."""
    import cltd.db

    made: list[Engine] = []
    original = cltd.db.create_engine

    def tracked(*args: Any, **kwargs: Any) -> Engine:
        engine = original(*args, **kwargs)
        made.append(engine)
        return engine

    monkeypatch.setattr(cltd.db, "create_engine", tracked)
    yield
    for engine in made:
        engine.dispose()


@pytest.fixture(scope="session")
def bylaws() -> Bylaws:
    return load_bylaws(default_bylaws_path())


@pytest.fixture
def make_member(db_session: Session, bylaws: Bylaws) -> Callable[..., Member]:
    counter = iter(range(1, 10_000))

    def make(
        member_class: str | None = None,
        *,
        steward: bool = False,
        name: str | None = None,
        email: str | None = None,
        password: str = TEST_PASSWORD,
        locale: str | None = None,
    ) -> Member:
        n = next(counter)
        member = member_service.add_member(
            db_session,
            bylaws,
            email=email or f"member{n}-{uuid.uuid4().hex[:6]}@example.org",
            display_name=name or f"Member {n}",
            member_class=member_class or bylaws.class_keys()[0],
            password=password,
            actor="steward:test",
            at=now(),
            is_steward=steward,
            locale=locale,
        )
        db_session.commit()
        return member

    return make


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    """Settings for a trust whose data directory is TMP_PATH (with a signing key in it)."""
    from cltd.adapters.keys import generate_signing_key
    from cltd.config import SIGNING_KEY_FILE, SIGNING_PUBLIC_KEY_FILE

    if not (tmp_path / SIGNING_KEY_FILE).exists():
        generate_signing_key(tmp_path / SIGNING_KEY_FILE, tmp_path / SIGNING_PUBLIC_KEY_FILE)
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "database_url": database_url,
        "secret_key": "test-secret-" + "x" * 40,
        "trust_name": "Test Trust",
        "bylaws_path": default_bylaws_path(),
    }
    values.update(overrides)
    return Settings(**values).validated()  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    return make_settings(tmp_path, engine.url.render_as_string(hide_password=False))


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    from cltd.web import create_app

    app = create_app(settings, session_factory=session_factory)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()
