"""/api/v1/tokens and /api/v1/clients: who may call them, with which scope, and bad bodies.

Both engines through the fixtures. Callers: anonymous, a member, another member, a steward, a
consumer acting for itself (no member); each by bearer token and, where it matters, by session
(whose unsafe requests need the X-CSRFToken header).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.models import OAuthClient, OAuthToken
from cltd.resources import schemas_dir
from cltd.rules.roles import Scope
from cltd.services import oauth
from tests.conftest import TEST_PASSWORD
from tests.web.helpers import csrf_token, sign_in
from tests.web.support import MakeMember
from tests.web.test_clients_pages import (
    audit_actions,
    bearer,
    client_count,
    issue,
    live_ids,
    register,
)

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _problem(response, status: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    return body


def _session_csrf(client: FlaskClient) -> dict[str, str]:
    return {"X-CSRFToken": csrf_token(client.get("/").get_data(as_text=True))}


def _consumer_token(db_session: Session, scope: str) -> str:
    consumer = register(
        db_session,
        name="Data Co-op",
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["catalog:read", "tokens:read", "tokens:revoke", "clients:write"],
    )
    _row, access = issue(db_session, consumer, None, scope)
    return access


# --- GET /api/v1/tokens -------------------------------------------------------------------------


def test_a_member_lists_their_own_live_tokens(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    member, other = make_member(), make_member()
    planner = register(db_session)
    counter = register(db_session, name="Seed Counter", organisation="Seed Library")
    first, _ = issue(db_session, planner, member, "profile:read tokens:read")
    rotated, access = issue(db_session, planner, member, "profile:read tokens:read", parent=first)
    second, _ = issue(db_session, counter, member, "consent:read")
    issue(db_session, counter, other, "profile:read")  # not theirs

    response = client.get("/api/v1/tokens", headers=bearer(access))
    assert response.status_code == 200, response.get_json()
    tokens = response.get_json()["tokens"]
    assert [t["id"] for t in tokens] == [rotated.id, second.id]
    listed = tokens[0]
    assert listed["client_name"] == "Garden Planner"
    assert listed["organisation"] == "Allotment Society"
    assert listed["client_id"] == planner.client_id
    assert listed["scope"] == "profile:read tokens:read"
    for key in ("issued_at", "expires_at", "authorised_at", "refresh_expires_at"):
        assert ISO_UTC.match(listed[key]), (key, listed[key])
    # the authorisation began with the family's first token, before the rotation
    assert listed["authorised_at"] <= listed["issued_at"]
    assert listed["authorised_at"] == first.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_signed_in_member_lists_their_tokens_through_the_session(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    member = make_member()
    token, _ = issue(db_session, register(db_session), member, "profile:read")
    sign_in(client, member.email, TEST_PASSWORD)
    response = client.get("/api/v1/tokens")
    assert response.status_code == 200
    assert [t["id"] for t in response.get_json()["tokens"]] == [token.id]


def test_tokens_need_a_caller_and_the_scope(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    assert _problem(client.get("/api/v1/tokens"), 401)
    _row, access = issue(db_session, register(db_session), make_member(), "profile:read")
    refused = client.get("/api/v1/tokens", headers=bearer(access))
    assert _problem(refused, 403)["code"] == "oauth.insufficient_scope"
    assert _problem(client.get("/api/v1/tokens", headers=bearer("made-up")), 401)


def test_a_consumer_acting_for_itself_has_no_tokens_to_list(
    client: FlaskClient, db_session: Session
) -> None:
    access = _consumer_token(db_session, "tokens:read tokens:revoke")
    body = _problem(client.get("/api/v1/tokens", headers=bearer(access)), 403)
    assert body["code"] == "api.member_only"
    deleted = client.delete("/api/v1/tokens/1", headers=bearer(access))
    assert _problem(deleted, 403)["code"] == "api.member_only"


# --- DELETE /api/v1/tokens/<id> -----------------------------------------------------------------


def test_a_member_revokes_their_own_token_with_its_family(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    member = make_member()
    planner = register(db_session)
    first, _ = issue(db_session, planner, member)
    rotated, target_access = issue(db_session, planner, member, parent=first)
    _caller, access = issue(db_session, planner, member, "tokens:read tokens:revoke")
    response = client.delete(f"/api/v1/tokens/{rotated.id}", headers=bearer(access))
    assert response.status_code == 204 and response.get_data() == b""
    db_session.expire_all()
    assert db_session.get(OAuthToken, first.id).revoked_at is not None  # type: ignore[union-attr]
    assert rotated.id not in live_ids(db_session)
    assert _problem(client.get("/api/v1/me", headers=bearer(target_access)), 401)
    assert "token.revoked" in audit_actions(db_session)


def test_a_member_cannot_revoke_another_members_token(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    planner = register(db_session)
    theirs, _ = issue(db_session, planner, make_member())
    _mine, access = issue(db_session, planner, make_member(), "tokens:read tokens:revoke")
    body = _problem(client.delete(f"/api/v1/tokens/{theirs.id}", headers=bearer(access)), 404)
    assert body["code"] == "token.unknown"
    assert theirs.id in live_ids(db_session)
    for missing_id in (99999, 2**31, 10**20):  # past PostgreSQL's integer too
        assert _problem(client.delete(f"/api/v1/tokens/{missing_id}", headers=bearer(access)), 404)


def test_a_steward_may_revoke_any_token(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    planner = register(db_session)
    theirs, _ = issue(db_session, planner, make_member())
    _steward_token, access = issue(
        db_session, planner, make_member(steward=True), "tokens:read tokens:revoke"
    )
    response = client.delete(f"/api/v1/tokens/{theirs.id}", headers=bearer(access))
    assert response.status_code == 204
    assert theirs.id not in live_ids(db_session)


def test_revoking_through_the_session_needs_the_csrf_header(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    member = make_member()
    token, _ = issue(db_session, register(db_session), member)
    assert _problem(client.delete(f"/api/v1/tokens/{token.id}"), 401)
    sign_in(client, member.email, TEST_PASSWORD)
    refused = _problem(client.delete(f"/api/v1/tokens/{token.id}"), 400)
    assert refused["code"] == "request.csrf_failed"
    assert token.id in live_ids(db_session)
    response = client.delete(f"/api/v1/tokens/{token.id}", headers=_session_csrf(client))
    assert response.status_code == 204
    assert token.id not in live_ids(db_session)


# --- /api/v1/clients ----------------------------------------------------------------------------

VALID = {
    "name": "Seed Counter",
    "organisation": "Seed Library",
    "client_type": "confidential",
    "redirect_uris": ["https://seeds.example.org/cb"],
    "scopes": ["profile:read", "catalog:read"],
    "grant_types": ["authorization_code", "refresh_token"],
    "may_introspect": True,
}


def _steward_token(
    db_session: Session, make_member: MakeMember, scope: str = "clients:write"
) -> str:
    tool = register(
        db_session, name="Steward Console", scopes=["clients:write", "tokens:read", "tokens:revoke"]
    )
    _row, access = issue(db_session, tool, make_member(steward=True), scope)
    return access


def test_a_steward_lists_the_applications(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    access = _steward_token(db_session, make_member)
    planner = register(db_session)
    issue(db_session, planner, make_member())
    response = client.get("/api/v1/clients", headers=bearer(access))
    assert response.status_code == 200, response.get_json()
    clients = {c["client_id"]: c for c in response.get_json()["clients"]}
    listed = clients[planner.client_id]
    assert listed["name"] == "Garden Planner" and listed["organisation"] == "Allotment Society"
    assert listed["client_type"] == "confidential" and listed["disabled"] is False
    assert listed["redirect_uris"] == ["https://planner.example.org/callback"]
    assert listed["grant_types"] == ["authorization_code", "refresh_token"]
    assert listed["live_tokens"] == 1
    assert ISO_UTC.match(listed["created_at"])
    assert all("secret" not in key for c in clients.values() for key in c)


def test_a_steward_registers_a_confidential_client_and_sees_its_secret_once(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    access = _steward_token(db_session, make_member)
    before = client_count(db_session)
    response = client.post("/api/v1/clients", json=VALID, headers=bearer(access))
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    secret = body["client_secret"]
    assert {k: body[k] for k in VALID} == VALID
    assert client_count(db_session) == before + 1
    row = db_session.scalar(select(OAuthClient).where(OAuthClient.client_id == body["client_id"]))
    assert row is not None
    assert row.secret_hash != secret and row.secret_hash == oauth.digest(secret)
    assert "client.registered" in audit_actions(db_session)
    listed = client.get("/api/v1/clients", headers=bearer(access)).get_data(as_text=True)
    assert body["client_id"] in listed and secret not in listed


def test_a_public_client_gets_no_secret(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    access = _steward_token(db_session, make_member)
    response = client.post(
        "/api/v1/clients", json={**VALID, "client_type": "public"}, headers=bearer(access)
    )
    assert response.status_code == 201
    body = response.get_json()
    assert "client_secret" not in body and body["client_type"] == "public"
    row = db_session.scalar(select(OAuthClient).where(OAuthClient.client_id == body["client_id"]))
    assert row is not None and row.secret_hash is None


def test_a_signed_in_steward_registers_through_the_session_with_the_csrf_header(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    steward = make_member(steward=True)
    sign_in(client, steward.email, TEST_PASSWORD)
    before = client_count(db_session)
    refused = _problem(client.post("/api/v1/clients", json=VALID), 400)
    assert refused["code"] == "request.csrf_failed"
    assert client_count(db_session) == before
    response = client.post("/api/v1/clients", json=VALID, headers=_session_csrf(client))
    assert response.status_code == 201
    assert client.get("/api/v1/clients").status_code == 200


@pytest.mark.parametrize("who", ["member session", "member token", "consumer token"])
def test_clients_are_for_stewards_only(
    client: FlaskClient, db_session: Session, make_member: MakeMember, who: str
) -> None:
    headers: dict[str, str] = {}
    if who == "member session":
        sign_in(client, make_member().email, TEST_PASSWORD)
        headers = _session_csrf(client)
    elif who == "member token":
        tool = register(db_session, name="Console", scopes=["clients:write"])
        headers = bearer(issue(db_session, tool, make_member(), "clients:write")[1])
    else:
        headers = bearer(_consumer_token(db_session, "clients:write"))
    before = client_count(db_session)
    assert _problem(client.get("/api/v1/clients", headers=headers), 403)["code"] == (
        "api.steward_only"
    )
    posted = _problem(client.post("/api/v1/clients", json=VALID, headers=headers), 403)
    assert posted["code"] == "api.steward_only"
    assert client_count(db_session) == before


def test_clients_need_a_caller_and_the_scope(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    assert _problem(client.get("/api/v1/clients"), 401)
    assert _problem(client.post("/api/v1/clients", json=VALID), 401)
    access = _steward_token(db_session, make_member, scope="tokens:read")
    before = client_count(db_session)
    for response in (
        client.get("/api/v1/clients", headers=bearer(access)),
        client.post("/api/v1/clients", json=VALID, headers=bearer(access)),
    ):
        assert _problem(response, 403)["code"] == "oauth.insufficient_scope"
    assert client_count(db_session) == before


SCHEMA_VIOLATIONS = [
    # (what is wrong, the body, the field named)
    ("missing name", {k: v for k, v in VALID.items() if k != "name"}, "name"),
    ("missing grant types", {k: v for k, v in VALID.items() if k != "grant_types"}, "grant_types"),
    ("empty name", {**VALID, "name": ""}, "name"),
    ("blank organisation", {**VALID, "organisation": "   "}, "organisation"),
    ("name too long", {**VALID, "name": "x" * 121}, "name"),
    ("name a number", {**VALID, "name": 7}, "name"),
    (
        "control character in the organisation",
        {**VALID, "organisation": "Seed\u001bLib"},
        "organisation",
    ),
    (
        "space in a redirect",
        {**VALID, "redirect_uris": ["https://seeds.example.org/a b"]},
        "redirect_uris",
    ),
    ("unknown type", {**VALID, "client_type": "secretive"}, "client_type"),
    (
        "redirect not a list",
        {**VALID, "redirect_uris": "https://seeds.example.org/cb"},
        "redirect_uris",
    ),
    ("redirect item a number", {**VALID, "redirect_uris": [3]}, "redirect_uris"),
    ("scope not a scope name", {**VALID, "scopes": ["profile:read", "every thing"]}, "scopes"),
    ("unknown grant", {**VALID, "grant_types": ["password"]}, "grant_types"),
    ("no grant", {**VALID, "grant_types": []}, "grant_types"),
    ("introspect a string", {**VALID, "may_introspect": "yes"}, "may_introspect"),
    ("extra property", {**VALID, "colour": "green"}, "colour"),
    ("a list, not an object", [VALID], None),
    ("a string, not an object", "Seed Counter", None),
]


@pytest.mark.parametrize(
    ("body", "field"),
    [case[1:] for case in SCHEMA_VIOLATIONS],
    ids=[case[0] for case in SCHEMA_VIOLATIONS],
)
def test_a_schema_violation_is_a_422_naming_the_field(
    client: FlaskClient,
    db_session: Session,
    make_member: MakeMember,
    body: object,
    field: str | None,
) -> None:
    access = _steward_token(db_session, make_member)
    before, audits = client_count(db_session), len(audit_actions(db_session))
    response = client.post("/api/v1/clients", json=body, headers=bearer(access))
    problem = _problem(response, 422)
    assert problem["code"] == "request.schema_invalid"
    assert problem.get("field") == field
    assert problem["detail"]
    assert client_count(db_session) == before
    assert len(audit_actions(db_session)) == audits


SERVICE_REFUSALS = [
    (
        "unknown scope",
        {**VALID, "scopes": ["profile:read", "everything:all"]},
        "scopes",
        "client.scope_unknown",
    ),
    (
        "plain http",
        {**VALID, "redirect_uris": ["http://seeds.example.org/cb"]},
        "redirect_uris",
        "client.redirect_uri_invalid",
    ),
    (
        "code without redirect",
        {**VALID, "redirect_uris": []},
        "redirect_uris",
        "client.redirect_uri_required",
    ),
    (
        "public with credentials",
        {**VALID, "client_type": "public", "grant_types": ["client_credentials"]},
        "grant_types",
        "client.public_no_client_credentials",
    ),
]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [case[1:] for case in SERVICE_REFUSALS],
    ids=[case[0] for case in SERVICE_REFUSALS],
)
def test_a_refusal_of_the_service_names_its_field(
    client: FlaskClient,
    db_session: Session,
    make_member: MakeMember,
    body: dict[str, object],
    field: str,
    code: str,
) -> None:
    access = _steward_token(db_session, make_member)
    before = client_count(db_session)
    problem = _problem(client.post("/api/v1/clients", json=body, headers=bearer(access)), 422)
    assert problem["field"] == field and problem["code"] == code
    assert client_count(db_session) == before


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(b"{not json", "application/json"), (json.dumps(VALID), "text/plain"), (b"", None)],
    ids=["broken json", "not json", "empty"],
)
def test_a_body_that_is_not_json_is_a_400(
    client: FlaskClient,
    db_session: Session,
    make_member: MakeMember,
    data: bytes | str,
    content_type: str | None,
) -> None:
    access = _steward_token(db_session, make_member)
    before = client_count(db_session)
    response = client.post(
        "/api/v1/clients", data=data, content_type=content_type, headers=bearer(access)
    )
    assert _problem(response, 400)["code"] == "request.json_required"
    assert client_count(db_session) == before


def test_the_schema_admits_every_scope_and_exactly_the_grants_the_trust_knows() -> None:
    schema = json.loads(
        (schemas_dir() / "json" / "client-registration.schema.json").read_text(encoding="utf-8")
    )
    properties = schema["properties"]
    pattern = re.compile(properties["scopes"]["items"]["pattern"])
    assert all(pattern.match(scope.value) for scope in Scope)
    assert set(properties["grant_types"]["items"]["enum"]) == set(oauth.GRANT_TYPES)
    assert set(properties["client_type"]["enum"]) == {"public", "confidential"}


def test_disabling_a_client_ends_its_tokens_in_the_api(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    planner = register(db_session)
    _row, access = issue(db_session, planner, make_member(), "tokens:read tokens:revoke")
    assert client.get("/api/v1/tokens", headers=bearer(access)).status_code == 200
    oauth.disable_client(db_session, planner.client_id, actor="steward:test", at=now())
    db_session.commit()
    assert _problem(client.get("/api/v1/tokens", headers=bearer(access)), 401)
