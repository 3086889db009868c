"""Shared test helpers: registered applications, bearer tokens, pinned peers and transfers,
written straight into the database."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.models import Member, OAuthClient, Peer, Transfer
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


def pin_test_peer(
    session: Session,
    *,
    origin: str = "https://northern.example",
    name: str = "Northern Community Data Trust",
    locked: bool = True,
) -> Peer:
    """A pinned peer trust, written straight into the database (no HTTP)."""
    peer = Peer(
        origin=origin,
        did="did:web:" + origin.removeprefix("https://"),
        name=name,
        key_multibase="z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        description={"assetLocked": locked},
        added_at=now(),
    )
    session.add(peer)
    session.flush()
    return peer


def transfer_row(
    session: Session,
    peer: Peer,
    *,
    direction: str = "incoming",
    state: str = "offered",
    title: str = "Housing survey",
    records: int = 6,
    contributors: int = 3,
    expires_in: timedelta = timedelta(days=30),
    asset_id: int | None = None,
    proposal_id: int | None = None,
    reason_code: str | None = None,
    reason: str | None = None,
) -> Transfer:
    """A transfer as the exchange leaves it, written straight into the database; an incoming
    one carries an offer with the sender's decision record (four yes of five seats per class)."""
    at = now()
    transfer_id = uuid.uuid4().hex
    offer: dict[str, object] = {}
    if direction == "incoming":
        offer = {
            "type": "TransferOffer",
            "transferId": transfer_id,
            "dataset": {"id": f"{peer.origin}/federation/datasets/housing", "title": {"en": title}},
            "decision": {
                "id": f"{peer.origin}/federation/decisions/7",
                "type": "DecisionRecord",
                "proposalKind": "transfer",
                "bylawsVersion": "2026.1",
                "outcome": "passed",
                "classResult": [
                    {
                        "memberClass": member_class,
                        "seats": 5,
                        "yesCount": 4,
                        "noCount": 1,
                        "abstainCount": 0,
                        "notVoted": 0,
                        "quorum": "1/2",
                        "threshold": "1/2",
                        "comparison": "greater",
                        "passes": True,
                    }
                    for member_class in ("contributor", "community", "public")
                ],
            },
        }
    transfer = Transfer(
        transfer_id=transfer_id,
        direction=direction,
        state=state,
        peer_id=peer.id,
        asset_id=asset_id,
        proposal_id=proposal_id,
        our_base="http://localhost",
        title={"en": title},
        offer=offer,
        records=records,
        contributors=contributors,
        reason_code=reason_code,
        reason=reason,
        expires_at=at + expires_in,
        created_at=at,
        updated_at=at,
    )
    session.add(transfer)
    session.flush()
    return transfer
