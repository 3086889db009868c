"""What the app holds for its whole life, and the one database session of each request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from flask import current_app, g, has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cltd.adapters.vault import KeyRing
from cltd.config import Settings
from cltd.rules.bylaws import Bylaws
from cltd.services import rulebook

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class AppState:
    settings: Settings
    engine: Engine | None
    founding_bylaws: Bylaws  # the file; an amendment the board adopts supersedes it
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]

    @property
    def bylaws(self) -> Bylaws:
        """The bylaws in force for this request (read once per request from the database)."""
        if not has_request_context():
            return self.founding_bylaws
        found: Bylaws | None = g.get("cltd_bylaws")
        if found is None:
            found = g.cltd_bylaws = rulebook.in_force(db(), self.founding_bylaws)
        return found


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


def writes(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a GET view that writes (an audited read), so its transaction is opened for writing
    from the start: on SQLite a read transaction cannot safely become a write one later."""
    view.cltd_writes = True  # type: ignore[attr-defined]
    return view


def _request_writes() -> bool:
    if request.method in _WRITE_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "cltd_writes", False))


def db() -> Session:
    """The request's session, opened on first use; the request's end commits or rolls it back."""
    session: Session | None = g.get("db_session")
    if session is None:
        app_state = state()
        factory = app_state.write_sessions if _request_writes() else app_state.read_sessions
        session = g.db_session = factory()
    return session
