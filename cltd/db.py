"""Engines and sessions for both supported databases.

SQLite is the embedded default; PostgreSQL (psycopg 3) is production. The differences that
matter for correctness are handled here, once:

* SQLite: foreign keys, WAL, synchronous=FULL and a busy timeout on every connection
  (reliability R22), and BEGIN IMMEDIATE for sessions that will write, so two writers queue
  instead of one failing with SQLITE_BUSY after reading a stale snapshot.
* PostgreSQL: read committed plus explicit row locks where order matters (the audit head).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

WRITE_OPTION = "cltd_write"

SQLITE_PRAGMAS = {
    "foreign_keys": "ON",
    "journal_mode": "WAL",
    "synchronous": "FULL",
    "busy_timeout": "10000",
}
# What each PRAGMA reads back as when it took effect.
_SQLITE_EXPECTED = {
    "foreign_keys": 1,
    "journal_mode": "wal",
    "synchronous": 2,
    "busy_timeout": 10000,
}


class DatabaseSettingsError(RuntimeError):
    """The database connection does not have the durability settings CLTD relies on."""


def make_engine(url: str, **kwargs: object) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)  # type: ignore[arg-type]
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)  # type: ignore[arg-type]


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Take transaction control from the driver so BEGIN is ours to emit (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for name, value in SQLITE_PRAGMAS.items():
            cursor.execute(f"PRAGMA {name} = {value}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def check_sqlite_settings(engine: Engine) -> None:
    """Refuse to run on a SQLite connection whose PRAGMAs did not take (R22)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        for name, expected in _SQLITE_EXPECTED.items():
            actual = connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            if name == "journal_mode" and engine.url.database in (None, "", ":memory:"):
                continue
            if actual != expected:
                raise DatabaseSettingsError(
                    f"SQLite PRAGMA {name} is {actual!r}, expected {expected!r}"
                )


def make_sessionmaker(engine: Engine, *, writes: bool = True) -> sessionmaker[Session]:
    bind = engine.execution_options(**{WRITE_OPTION: True}) if writes else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for a CLI command or a job: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(session: Session) -> None:
    session.execute(text("SELECT 1"))
