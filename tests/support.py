"""Shared test helpers: registered applications and bearer tokens minted straight into the DB."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.models import Member, OAuthClient
from cltd.services import oauth


def register(
    session: Session,
    *,
    scopes: list[str],
    confidential: bool = True,
    name: str = "Housing Study",
    webhook_url: str | None = None,
) -> OAuthClient:
    registered = oauth.register_client(
        session,
        name=name,
        organisation="City University",
        client_type="confidential" if confidential else "public",
        redirect_uris=[] if confidential else ["http://127.0.0.1:9999/callback"],
        scopes=scopes,
        grant_types=["client_credentials"] if confidential else ["authorization_code"],
        may_introspect=False,
        actor="steward:test",
        at=now(),
    )
    registered.client.webhook_url = webhook_url
    session.flush()
    return registered.client


def mint(
    session: Session, client: OAuthClient, scope: str, member: Member | None = None
) -> dict[str, str]:
    """A live bearer token for CLIENT (acting for MEMBER, or for itself), as request headers."""
    token = secrets.token_urlsafe(32)
    oauth.save_token(
        session,
        {"access_token": token, "expires_in": 600, "scope": scope},
        client=client,
        member=member,
        at=now(),
    )
    session.commit()
    return {"Authorization": f"Bearer {token}"}
