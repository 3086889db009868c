"""Parallel redemptions of one code or one refresh token: exactly one wins (R3, R4).

Twenty threads wait on one barrier, then each POSTs the same credential to /oauth/token of a
live, threaded server with a 25-connection pool. Both engines: PostgreSQL runs the requests
truly in parallel (the conditional UPDATE decides); SQLite queues its writers, and must give
the same answer. Every loser must be invalid_grant, and the replay it represents must revoke
what the winner got.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from cltd.rules.bylaws import Bylaws
from tests.oauth.conftest import (
    HTTP_TIMEOUT,
    LOOPBACK_REDIRECT,
    LiveTrust,
    admit,
    allow_over_http,
    bearer,
    pkce,
    register_over,
    sign_in_over_http,
)

ROUNDS = 5
PARALLEL = 20

Outcome = tuple[int, dict[str, object]]


@pytest.fixture
def member_agent(race_trust: LiveTrust, bylaws: Bylaws) -> Iterator[requests.Session]:
    admit(race_trust, bylaws, "racer@example.org", "Racer")
    with requests.Session() as session:
        sign_in_over_http(race_trust, session, "racer@example.org")
        yield session


def _race(url: str, data: dict[str, str]) -> list[Outcome]:
    """POST DATA to URL from PARALLEL threads released together."""
    barrier = threading.Barrier(PARALLEL)
    outcomes: list[Outcome | BaseException | None] = [None] * PARALLEL

    def run(slot: int) -> None:
        try:
            with requests.Session() as http:
                http.get(url.rsplit("/oauth/", 1)[0] + "/healthz", timeout=HTTP_TIMEOUT)
                barrier.wait(timeout=HTTP_TIMEOUT)
                answer = http.post(url, data=data, timeout=HTTP_TIMEOUT)
                try:
                    body = answer.json()
                except ValueError:
                    body = {"text": answer.text[:200]}
                outcomes[slot] = (answer.status_code, body)
        except BaseException as error:  # reported below, not lost in the thread
            outcomes[slot] = error

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * HTTP_TIMEOUT)
    failures = [o for o in outcomes if not isinstance(o, tuple)]
    assert not failures, failures
    return outcomes  # type: ignore[return-value]


def _one_winner(outcomes: list[Outcome]) -> dict[str, object]:
    winners = [body for status, body in outcomes if status == 200]
    losers = [(status, body) for status, body in outcomes if status != 200]
    summary = sorted((status, str(body.get("error"))) for status, body in outcomes)
    assert len(winners) == 1, summary
    assert all(status == 400 and body.get("error") == "invalid_grant" for status, body in losers), (
        summary
    )
    return winners[0]


def _authorize(trust: LiveTrust, agent: requests.Session, client_id: str) -> tuple[str, str]:
    verifier, challenge = pkce()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": LOOPBACK_REDIRECT,
            "scope": "profile:read",
            "state": "race",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    location = allow_over_http(agent, trust.url + "/oauth/authorize?" + query)
    return parse_qs(urlsplit(location).query)["code"][0], verifier


def test_parallel_redemptions_of_one_code_have_exactly_one_winner(
    race_trust: LiveTrust, member_agent: requests.Session
) -> None:
    base = race_trust.url
    client_id, _ = register_over(race_trust, redirect_uris=(LOOPBACK_REDIRECT,))
    for _round in range(ROUNDS):
        code, verifier = _authorize(race_trust, member_agent, client_id)
        outcomes = _race(
            base + "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": LOOPBACK_REDIRECT,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
        winner = _one_winner(outcomes)
        # Every loser was a replay of the code: the winner's tokens are revoked (RFC 9700 §4.5).
        me = requests.get(
            base + "/api/v1/me", headers=bearer(str(winner["access_token"])), timeout=HTTP_TIMEOUT
        )
        assert me.status_code == 401
        refresh = requests.post(
            base + "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": winner["refresh_token"],
                "client_id": client_id,
            },
            timeout=HTTP_TIMEOUT,
        )
        assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_parallel_refreshes_of_one_token_have_exactly_one_winner(
    race_trust: LiveTrust, member_agent: requests.Session
) -> None:
    base = race_trust.url
    client_id, _ = register_over(race_trust, redirect_uris=(LOOPBACK_REDIRECT,))
    for _round in range(ROUNDS):
        code, verifier = _authorize(race_trust, member_agent, client_id)
        issued = requests.post(
            base + "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": LOOPBACK_REDIRECT,
                "client_id": client_id,
                "code_verifier": verifier,
            },
            timeout=HTTP_TIMEOUT,
        )
        assert issued.status_code == 200, issued.text
        tokens = issued.json()
        outcomes = _race(
            base + "/oauth/token",
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": client_id,
            },
        )
        winner = _one_winner(outcomes)
        # The losers reused a rotated refresh token: the whole family is revoked (RFC 9700 §4.14),
        # the winner's fresh pair included.
        for access in (tokens["access_token"], winner["access_token"]):
            me = requests.get(
                base + "/api/v1/me", headers=bearer(str(access)), timeout=HTTP_TIMEOUT
            )
            assert me.status_code == 401
        again = requests.post(
            base + "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": winner["refresh_token"],
                "client_id": client_id,
            },
            timeout=HTTP_TIMEOUT,
        )
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
