"""Shared helpers for the page tests: apps with other settings, and who is signed in."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from cltd.models import AuditEntry, Member
from tests.conftest import make_settings

SIGNED_IN_AS = re.compile(r'data-testid="signed-in-as">([^<]*)<')
HTML_LANG = re.compile(r'<html lang="([^"]*)">')
COOKIE = "cltd_session"


def build_app(
    tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session], **overrides: object
) -> Flask:
    """An app like the `app` fixture, with settings OVERRIDES (same rolled-back connection)."""
    from cltd.web import create_app

    settings = make_settings(
        tmp_path, engine.url.render_as_string(hide_password=False), **overrides
    )
    app = create_app(settings, session_factory=session_factory)
    app.config.update(TESTING=True)
    return app


def signed_in_as(client: FlaskClient) -> str | None:
    """What the front page says about who is signed in ("Signed in as …"), None if nobody."""
    html = client.get("/").get_data(as_text=True)
    found = SIGNED_IN_AS.search(html)
    if found is None:
        assert 'data-testid="signin-link"' in html
        return None
    return found.group(1)


def html_lang(html: str) -> str:
    found = HTML_LANG.search(html)
    assert found, "the page has no <html lang>"
    return found.group(1)


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie is not None else None


def member_count(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Member)) or 0


def audit_count(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(AuditEntry)) or 0


MakeMember = Callable[..., Member]
