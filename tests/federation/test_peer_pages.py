"""A steward pins a peer through the pages (fetch, compare the fingerprint, pin), asks for a
sync, and members find the peer's datasets on the catalog page and the peer on the network."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from cltd.adapters.clock import now
from cltd.db import session_scope
from cltd.services import members, peers
from tests.conftest import TEST_PASSWORD
from tests.federation.conftest import LiveTrust
from tests.web.helpers import csrf_token, sign_in


def steward_client(trust: LiveTrust) -> FlaskClient:
    from cltd.web import create_app

    with session_scope(trust.sessions) as session:
        members.add_member(
            session,
            trust.bylaws,
            email="steward@b.org",
            display_name="Steward",
            member_class="community",
            password=TEST_PASSWORD,
            actor="test",
            at=now(),
            is_steward=True,
        )
    client = create_app(trust.settings, engine=trust.engine).test_client()
    sign_in(client, "steward@b.org", TEST_PASSWORD)
    return client


def test_a_steward_pins_a_peer_on_the_page_and_members_find_its_datasets(
    start_trust: Callable[[str], LiveTrust],
) -> None:
    a, b = start_trust("Riverside"), start_trust("Northern")
    a.add_asset("damp-survey", keywords=["damp"])
    client = steward_client(b)
    page = client.get("/steward/peers").get_data(as_text=True)
    shown = client.post(
        "/steward/peers", data={"url": a.url, "csrf_token": csrf_token(page)}
    ).get_data(as_text=True)
    fingerprint = re.search(r'data-testid="fingerprint">([^<]+)<', shown).group(1)
    assert re.fullmatch(r"([0-9A-F]{4}:){7}[0-9A-F]{4}", fingerprint)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', shown).group(1)
    pinned = client.post(
        "/steward/peers", data={"url": a.url, "key": key, "csrf_token": csrf_token(shown)}
    )
    assert pinned.status_code == 302
    listing = client.get("/steward/peers").get_data(as_text=True)
    assert "Riverside" in listing and "waiting for its first sync" in listing
    peer_id = int(re.search(r'data-testid="sync-(\d+)"', listing).group(1))
    assert (
        client.post(
            f"/steward/peers/{peer_id}/sync", data={"csrf_token": csrf_token(listing)}
        ).status_code
        == 302
    )
    peers.sync_due(b.sessions, b.fetcher(), owner="w", clock=now, every=peers.LEASE)
    found = client.get("/catalog?q=damp").get_data(as_text=True)
    assert "Damp Survey" in found and "held by Riverside" in found
    assert a.url + "/api/v1/access-requests" in found
    assert "Nothing matches" in client.get("/catalog?q=nothing-like-this").get_data(as_text=True)
    network = client.get("/network").get_data(as_text=True)
    assert "Riverside" in network


def test_a_changed_key_is_refused_on_the_page(start_trust: Callable[[str], LiveTrust]) -> None:
    a, b = start_trust("Riverside"), start_trust("Northern")
    client = steward_client(b)
    page = client.get("/steward/peers").get_data(as_text=True)
    answer = client.post(
        "/steward/peers",
        data={
            "url": a.url,
            "key": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "csrf_token": csrf_token(page),
        },
    )
    assert answer.status_code == 409
    assert "not the key you gave" in answer.get_data(as_text=True)
    with session_scope(b.sessions) as session:
        assert peers.list_peers(session) == []
