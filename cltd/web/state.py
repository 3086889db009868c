"""What the app holds for its whole life, and the one database session of each request."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cltd.adapters.vault import KeyRing
from cltd.config import Settings
from cltd.rules.bylaws import Bylaws

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class AppState:
    settings: Settings
    engine: Engine | None
    bylaws: Bylaws
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]


def state() -> AppState:
    return current_app.extensions["cltd"]


def keyring() -> KeyRing:
    """The trust's key-encryption keys, in the data directory (never in the database)."""
    return KeyRing(state().settings.data_dir / "keys")


def keep_changes_on_error() -> None:
    """Commit this request's writes even if it answers with an error.

    For security writes that must survive the refusal they cause: a spent authorization
    code, a token family revoked because a refresh token was replayed.
    """
    g.keep_changes = True


def db() -> Session:
    """The request's session, opened on first use; the request's end commits or rolls it back."""
    session: Session | None = g.get("db_session")
    if session is None:
        app_state = state()
        factory = (
            app_state.write_sessions
            if request.method in _WRITE_METHODS
            else app_state.read_sessions
        )
        session = g.db_session = factory()
    return session
