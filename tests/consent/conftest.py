"""Helpers shared by the consent and data-access proofs.

Everything here only builds the world a test starts from (assets, members, consumers, grants)
through the services, flushing and never committing: the caller decides whether its session
commits (fresh_database) or is rolled back (db_session).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cltd.adapters.vault import KeyRing
from cltd.db import make_sessionmaker
from cltd.models import Asset, Grant, Member, OAuthClient
from cltd.rules.bylaws import Bylaws
from cltd.services import assets as asset_service
from cltd.services import members as member_service
from cltd.services import oauth

FIELDS: tuple[dict[str, object], ...] = (
    {"name": "street", "type": "text", "required": True},
    {"name": "damp", "type": "boolean"},
    {"name": "rooms", "type": "integer"},
)
FIELD_NAMES = ("street", "damp", "rooms")
PASSWORD = "correct horse battery staple"
# A fixed, whole-second start for fake clocks (never the wall clock).
T0 = datetime(2031, 3, 1, 12, 0, 0, tzinfo=UTC)


def new_asset(
    session: Session,
    bylaws: Bylaws,
    *,
    slug: str | None = None,
    permitted: Mapping[str, Sequence[str]] | None = None,
    prohibited: Sequence[str] = (),
    at: datetime = T0,
) -> Asset:
    return asset_service.create_asset(
        session,
        bylaws,
        slug=slug or f"asset-{uuid.uuid4().hex[:10]}",
        title={"en": "Housing survey"},
        description={"en": "Damp and repairs."},
        keywords=["housing"],
        actor="steward:test",
        at=at,
        fields=list(FIELDS),
        permitted=permitted
        if permitted is not None
        else {"public-benefit": ["street", "damp"], "research-and-development": ["damp", "rooms"]},
        prohibited=list(prohibited),
    )


def new_member(
    session: Session, bylaws: Bylaws, *, name: str = "Member", at: datetime = T0
) -> Member:
    return member_service.add_member(
        session,
        bylaws,
        email=f"{name.lower().replace(' ', '-')}-{uuid.uuid4().hex[:8]}@example.org",
        display_name=name,
        member_class=bylaws.class_keys()[0],
        password=PASSWORD,
        actor="steward:test",
        at=at,
    )


def new_consumer(
    session: Session,
    *,
    name: str = "Housing Study",
    webhook_url: str | None = None,
    scopes: Sequence[str] = ("records:read", "access:request", "catalog:read"),
) -> OAuthClient:
    registered = oauth.register_client(
        session,
        name=name,
        organisation="City University",
        client_type="confidential",
        redirect_uris=[],
        scopes=list(scopes),
        grant_types=["client_credentials"],
        may_introspect=False,
        actor="steward:test",
        at=T0,
    )
    registered.client.webhook_url = webhook_url
    session.flush()
    return registered.client


def new_grant(
    session: Session,
    client: OAuthClient,
    asset: Asset,
    purpose: str,
    *,
    starts_at: datetime = T0,
    lasts: timedelta = timedelta(days=365),
) -> Grant:
    """A grant as the board or the access service would leave it (steward data)."""
    grant = Grant(
        client_pk=client.id,
        asset_id=asset.id,
        purpose=purpose,
        starts_at=starts_at,
        expires_at=starts_at + lasts,
    )
    session.add(grant)
    session.flush()
    return grant


@dataclass
class Committed:
    """A fresh, migrated database that tests commit to for real, with its session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.sessions()


@pytest.fixture
def committed(fresh_database: tuple[str, Engine]) -> Iterator[Committed]:
    url, engine = fresh_database
    yield Committed(url, engine, make_sessionmaker(engine, writes=True))


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    """The trust's key-encryption keys for this test (in tmp_path, never in the database)."""
    return KeyRing(tmp_path / "keys")
