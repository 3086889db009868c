"""Rate limits shared between workers through Redis, and a steward's view of every token."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cltd.web import create_app
from tests.conftest import TEST_PASSWORD, make_settings, skip_or_fail
from tests.support import mint, register
from tests.web.helpers import csrf_token, sign_in

REDIS_URL = os.environ.get("CLTD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        skip_or_fail(f"no Redis at {REDIS_URL} (set CLTD_TEST_REDIS_URL)")


def test_two_workers_share_one_sign_in_budget_through_redis(tmp_path: Path, engine: Engine) -> None:
    """With several workers, counters must be shared, or each worker multiplies the limit."""
    _redis_or_skip()
    url = engine.url.render_as_string(hide_password=False)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # a database number kept for these tests
    storage = REDIS_URL
    workers = [
        create_app(
            make_settings(
                tmp_path, url, ratelimit_storage_uri=storage, signin_rate_limit="3 per minute"
            )
        )
        for _ in range(2)
    ]
    statuses = []
    for attempt in range(4):
        client = workers[attempt % 2].test_client()
        token = csrf_token(client.get("/signin").get_data(as_text=True))
        response = client.post(
            "/signin",
            data={"email": "nobody@example.org", "password": "wrong", "csrf_token": token},
        )
        statuses.append(response.status_code)
    assert statuses == [400, 400, 400, 429]


def test_a_steward_lists_every_members_tokens_and_a_member_cannot(
    client, db_session: Session, make_member
) -> None:  # type: ignore[no-untyped-def]
    app_client = register(db_session, scopes=["profile:read"], confidential=False, name="Pub")
    alice, steward = make_member(name="Alice"), make_member(steward=True, name="Steward")
    mint(db_session, app_client, "profile:read", alice)
    sign_in(client, alice.email, TEST_PASSWORD)
    assert client.get("/api/v1/tokens?all=true").status_code == 403
    client.post("/signout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    sign_in(client, steward.email, TEST_PASSWORD)
    everyone = client.get("/api/v1/tokens?all=true").get_json()["tokens"]
    assert alice.id in {t["member_id"] for t in everyone}
    assert client.get("/api/v1/tokens").get_json()["tokens"] == []  # the steward's own: none


def test_sign_in_still_works_when_the_counter_store_is_down(
    tmp_path: Path, engine: Engine, make_member
) -> None:  # type: ignore[no-untyped-def]
    """Fail soft: counters fall back to each worker's memory, never a 500 at sign-in."""
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(make_settings(tmp_path, url, ratelimit_storage_uri="redis://127.0.0.1:1/0"))
    client = app.test_client()
    token = csrf_token(client.get("/signin").get_data(as_text=True))
    response = client.post(
        "/signin", data={"email": "nobody@example.org", "password": "wrong", "csrf_token": token}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("webhook", "status"),
    [
        ("https://consumer.example/cltd-notices", 201),
        ("http://127.0.0.1:9000/hook", 201),
        ("http://consumer.example/hook", 422),
        ("ftp://consumer.example/", 422),
    ],
)
def test_a_consumer_registers_where_withdrawal_notices_go(
    client,
    make_member,
    webhook: str,
    status: int,  # type: ignore[no-untyped-def]
) -> None:
    steward = make_member(steward=True)
    sign_in(client, steward.email, TEST_PASSWORD)
    token = csrf_token(client.get("/steward/clients").get_data(as_text=True))
    response = client.post(
        "/api/v1/clients",
        headers={"X-CSRFToken": token},
        json={
            "name": "Study",
            "organisation": "University",
            "client_type": "confidential",
            "redirect_uris": [],
            "scopes": ["records:read"],
            "grant_types": ["client_credentials"],
            "webhook_url": webhook,
        },
    )
    assert response.status_code == status
    if status == 201:
        assert response.get_json()["webhook_url"] == webhook
    else:
        assert response.get_json()["field"] == "webhook_url"
