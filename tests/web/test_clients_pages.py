"""The pages for OAuth applications: a member's connected applications, the steward's register.

Both engines through the fixtures. Each page is tried by an anonymous visitor, a member, another
member and a steward; bad input re-renders the form with the message at the field and saves
nothing; a confidential client's secret is shown once and only its hash is kept.
"""

from __future__ import annotations

import re
import secrets

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.adapters.clock import now
from cltd.models import AuditEntry, Member, OAuthClient, OAuthToken
from cltd.rules.roles import Scope
from cltd.services import oauth
from cltd.services.audit import AuditAction
from tests.conftest import TEST_PASSWORD
from tests.web.helpers import csrf_token, post_form, sign_in
from tests.web.support import MakeMember

REDIRECT = "https://planner.example.org/callback"


# --- helpers shared with test_tokens_api -------------------------------------------------------


def register(db_session: Session, **overrides: object) -> OAuthClient:
    values: dict[str, object] = {
        "name": "Garden Planner",
        "organisation": "Allotment Society",
        "client_type": "confidential",
        "redirect_uris": [REDIRECT],
        "scopes": ["profile:read", "consent:read", "tokens:read"],
        "grant_types": ["authorization_code", "refresh_token"],
        "may_introspect": False,
    }
    values.update(overrides)
    registered = oauth.register_client(db_session, actor="steward:test", at=now(), **values)  # type: ignore[arg-type]
    db_session.commit()
    return registered.client


def issue(
    db_session: Session,
    client: OAuthClient,
    member: Member | None,
    scope: str = "profile:read tokens:read",
    *,
    parent: OAuthToken | None = None,
) -> tuple[OAuthToken, str]:
    """A token as the token endpoint would save it; returns the row and the bearer string."""
    access = secrets.token_urlsafe(32)
    token = {
        "access_token": access,
        "refresh_token": secrets.token_urlsafe(32),
        "expires_in": 600,
        "scope": scope,
    }
    row = oauth.save_token(db_session, token, client=client, member=member, at=now(), parent=parent)
    if parent is not None:
        oauth.retire_rotated(db_session, parent, now())
    db_session.commit()
    return row, access


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


def client_count(db_session: Session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(OAuthClient)) or 0


def live_ids(db_session: Session) -> set[int]:
    db_session.expire_all()
    return {t.id for t in oauth.tokens_of(db_session, None, now())}


def audit_actions(db_session: Session) -> list[str]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def _signed_in(client: FlaskClient, member: Member) -> FlaskClient:
    sign_in(client, member.email, TEST_PASSWORD)
    return client


# --- a member's connected applications ---------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/account/apps")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=/account/apps")
    assert 'href="/account/apps"' not in client.get("/").get_data(as_text=True)


def test_member_sees_their_tokens_grouped_by_application(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    nadia, other = make_member(name="Nadia"), make_member(name="Omar")
    planner = register(db_session)
    counter = register(db_session, name="Seed Counter", organisation="Seed Library")
    secret_app = register(db_session, name="Other App", organisation="Elsewhere Ltd")
    first, _ = issue(db_session, planner, nadia, "profile:read")
    second, _ = issue(db_session, planner, nadia, "consent:read")
    third, _ = issue(db_session, counter, nadia, "profile:read")
    theirs, _ = issue(db_session, secret_app, other, "profile:read")
    gone, _ = issue(db_session, counter, nadia, "consent:read")
    oauth.revoke(db_session, gone, actor="test", at=now())
    db_session.commit()

    html = _signed_in(client, nadia).get("/account/apps").get_data(as_text=True)
    assert 'href="/account/apps"' in html  # the nav link
    assert html.count('data-testid="connected-app"') == 2
    assert "Garden Planner" in html and "Allotment Society" in html
    assert "Seed Counter" in html and "Seed Library" in html
    assert "Other App" not in html and "Elsewhere Ltd" not in html
    for token in (first, second, third):
        assert f'data-testid="connection-{token.id}"' in html
        assert f"/account/apps/{token.id}/revoke" in html
    assert f"connection-{theirs.id}" not in html and f"connection-{gone.id}" not in html
    assert "See which purposes you have consented to." in html  # the scope, in words
    planner_card = html[html.index("Garden Planner") : html.index("Seed Counter")]
    assert planner_card.count("Revoke access") == 2  # both of its tokens under one heading


def test_member_with_no_application_reads_so(client: FlaskClient, make_member: MakeMember) -> None:
    html = _signed_in(client, make_member()).get("/account/apps").get_data(as_text=True)
    assert 'data-testid="no-apps"' in html


def test_member_revokes_a_token_and_its_family(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    member = make_member()
    planner = register(db_session)
    first, _ = issue(db_session, planner, member)
    rotated, access = issue(db_session, planner, member, parent=first)
    other, other_access = issue(db_session, planner, member)
    _signed_in(client, member)
    assert client.get("/api/v1/me", headers=bearer(access)).status_code == 200

    response = post_form(client, "/account/apps", f"/account/apps/{rotated.id}/revoke", {})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/apps"
    db_session.expire_all()
    assert db_session.get(OAuthToken, rotated.id).revoked_at is not None  # type: ignore[union-attr]
    assert db_session.get(OAuthToken, first.id).revoked_at is not None  # type: ignore[union-attr]
    assert live_ids(db_session) == {other.id}
    api = client.application.test_client()
    assert api.get("/api/v1/me", headers=bearer(access)).status_code == 401
    assert api.get("/api/v1/me", headers=bearer(other_access)).status_code == 200
    html = client.get("/account/apps").get_data(as_text=True)
    assert "Access revoked" in html
    assert f"connection-{rotated.id}" not in html and f"connection-{other.id}" in html
    assert AuditAction.TOKEN_REVOKED in audit_actions(db_session)


@pytest.mark.parametrize("who", ["other member", "steward"])
def test_nobody_revokes_another_members_token_from_this_page(
    client: FlaskClient, db_session: Session, make_member: MakeMember, who: str
) -> None:
    owner = make_member()
    caller = make_member(steward=who == "steward")
    token, _ = issue(db_session, register(db_session), owner)
    _signed_in(client, caller)
    assert f"connection-{token.id}" not in client.get("/account/apps").get_data(as_text=True)
    response = post_form(client, "/account/apps", f"/account/apps/{token.id}/revoke", {})
    assert response.status_code == 404
    assert live_ids(db_session) == {token.id}
    for missing_id in (token.id + 999, 2**31, 10**20):  # past PostgreSQL's integer too
        missing = post_form(client, "/account/apps", f"/account/apps/{missing_id}/revoke", {})
        assert missing.status_code == 404, missing_id


def test_revoking_needs_the_form_token_and_a_signed_in_member(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    member = make_member()
    token, _ = issue(db_session, register(db_session), member)
    anonymous = post_form(client, "/signin", f"/account/apps/{token.id}/revoke", {})
    assert anonymous.status_code == 302 and "/signin" in anonymous.headers["Location"]
    _signed_in(client, member)
    assert client.post(f"/account/apps/{token.id}/revoke").status_code == 400
    assert live_ids(db_session) == {token.id}


# --- the steward's applications page -----------------------------------------------------------


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Seed Counter",
        "organisation": "Seed Library",
        "client_type": "confidential",
        "redirect_uris": "https://seeds.example.org/cb\nhttp://127.0.0.1:8080/cb\n",
        "scopes": ["profile:read", "catalog:read"],
        "grant_types": ["authorization_code", "refresh_token"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _submit(client: FlaskClient, data: dict[str, object]):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/steward/clients").get_data(as_text=True))
    return client.post("/steward/clients", data={**data, "csrf_token": token})


def _field_errors(html: str, name: str) -> str:
    """The error messages shown at form field NAME (a single input, or a checkbox fieldset)."""
    start = html.index(f'data-testid="field-{name}"')
    tag = html.rindex("<", 0, start)
    end = html.index("</fieldset>" if html.startswith("<fieldset", tag) else "</p>", start)
    return " ".join(re.findall(r'<span class="error" role="alert">([^<]*)</span>', html[start:end]))


def test_steward_page_is_for_stewards_only(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    assert client.get("/steward/clients").status_code == 302
    member = make_member()
    _signed_in(client, member)
    assert client.get("/steward/clients").status_code == 403
    assert 'href="/steward/clients"' not in client.get("/").get_data(as_text=True)
    before = client_count(db_session)
    token = csrf_token(client.get("/").get_data(as_text=True))
    refused = client.post("/steward/clients", data={**_form(), "csrf_token": token})
    assert refused.status_code == 403
    assert client_count(db_session) == before


def test_steward_sees_the_registered_applications(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    steward = make_member(steward=True)
    planner = register(db_session, may_introspect=True)
    issue(db_session, planner, make_member())
    issue(db_session, planner, make_member())
    _signed_in(client, steward)
    assert 'href="/steward/clients"' in client.get("/").get_data(as_text=True)
    html = client.get("/steward/clients").get_data(as_text=True)
    row = html[html.index(f'data-testid="client-{planner.client_id}"') :]
    row = row[: row.index("</li>")]
    for text in (
        "Garden Planner",
        "Allotment Society",
        "confidential",
        "may check tokens",
        "profile:read",
        "authorization_code",
        REDIRECT,
        f"disable-{planner.client_id}",
    ):
        assert text in row, text
    assert re.search(r'data-testid="live-tokens">2<', row)
    # the form offers every scope and grant type the trust knows as a checkbox
    for value in [*(s.value for s in Scope), *oauth.GRANT_TYPES]:
        assert re.search(rf'type="checkbox" value="{value}"', html), value


def test_registering_a_confidential_client_shows_the_secret_once(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    _signed_in(client, make_member(steward=True))
    before = client_count(db_session)
    response = _submit(client, _form(may_introspect="y"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    client_id = re.search(r'data-testid="new-client-id">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    secret = re.search(r'data-testid="new-client-secret">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    assert "it will not be shown again" in html
    assert client_count(db_session) == before + 1

    row = db_session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    assert row is not None and row.name == "Seed Counter" and row.may_introspect
    assert row.secret_hash != secret and row.secret_hash == oauth.digest(secret)
    assert row.redirect_uris == ["https://seeds.example.org/cb", "http://127.0.0.1:8080/cb"]
    assert row.scopes == ["profile:read", "catalog:read"]
    assert oauth.check_client_secret(row, secret)
    assert AuditAction.CLIENT_REGISTERED in audit_actions(db_session)

    again = client.get("/steward/clients").get_data(as_text=True)
    assert secret not in again and client_id in again
    assert "new-client-secret" not in again
    assert secret not in str(client.get_cookie("cltd_session").value)  # type: ignore[union-attr]
    # the form after success is empty again
    assert 'value="Seed Counter"' not in html


def test_registering_a_public_client_shows_no_secret(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    _signed_in(client, make_member(steward=True))
    response = _submit(client, _form(client_type="public"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    client_id = re.search(r'data-testid="new-client-id">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    assert "new-client-secret" not in html
    row = db_session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    assert row is not None and row.secret_hash is None and row.client_type == "public"


BAD_FORMS = [
    # (what is wrong, form overrides, status, field, words of the message)
    ("no name", {"name": ""}, 400, "name", "required"),
    ("blank name", {"name": "   "}, 400, "name", "required"),
    ("name too long", {"name": "x" * 121}, 400, "name", "120"),
    ("no organisation", {"organisation": ""}, 400, "organisation", "required"),
    (
        "escape in the organisation",
        {"organisation": "Seed\x1bLib"},
        400,
        "organisation",
        "cannot be used here",
    ),
    ("unknown type", {"client_type": "secretive"}, 422, "client_type", "public or confidential"),
    (
        "plain http",
        {"redirect_uris": "http://seeds.example.org/cb"},
        422,
        "redirect_uris",
        "is not a redirect address",
    ),
    (
        "fragment",
        {"redirect_uris": "https://seeds.example.org/cb#x"},
        422,
        "redirect_uris",
        "is not a redirect address",
    ),
    (
        "no redirect for code",
        {"redirect_uris": ""},
        422,
        "redirect_uris",
        "at least one redirect address",
    ),
    (
        "unknown scope",
        {"scopes": ["profile:read", "everything"]},
        422,
        "scopes",
        "“everything” is not a scope",
    ),
    (
        "unknown grant",
        {"grant_types": ["password"]},
        422,
        "grant_types",
        "“password” is not a grant type",
    ),
    (
        "public with credentials",
        {"client_type": "public", "grant_types": ["client_credentials"]},
        422,
        "grant_types",
        "cannot keep a secret",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "status", "field", "words"),
    [case[1:] for case in BAD_FORMS],
    ids=[case[0] for case in BAD_FORMS],
)
def test_bad_input_is_shown_at_its_field_and_nothing_is_saved(
    client: FlaskClient,
    db_session: Session,
    make_member: MakeMember,
    overrides: dict[str, object],
    status: int,
    field: str,
    words: str,
) -> None:
    _signed_in(client, make_member(steward=True))
    before, audits = client_count(db_session), len(audit_actions(db_session))
    response = _submit(client, _form(**overrides))
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert words in _field_errors(html, field), _field_errors(html, field)
    assert "new-client-id" not in html
    assert client_count(db_session) == before
    assert len(audit_actions(db_session)) == audits
    if field != "organisation":
        assert 'value="Seed Library"' in html  # what the steward typed is kept


def test_registering_needs_the_form_token(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    _signed_in(client, make_member(steward=True))
    before = client_count(db_session)
    assert client.post("/steward/clients", data=_form()).status_code == 400
    assert client_count(db_session) == before


def test_steward_disables_an_application_and_its_tokens_stop_working(
    client: FlaskClient, db_session: Session, make_member: MakeMember
) -> None:
    planner = register(db_session)
    _token, access = issue(db_session, planner, make_member())
    api = client.application.test_client()
    assert api.get("/api/v1/me", headers=bearer(access)).status_code == 200
    _signed_in(client, make_member(steward=True))

    action = f"/steward/clients/{planner.client_id}/disable"
    response = post_form(client, "/steward/clients", action, {})
    assert response.status_code == 302 and response.headers["Location"] == "/steward/clients"
    db_session.expire_all()
    assert db_session.get(OAuthClient, planner.id).disabled_at is not None  # type: ignore[union-attr]
    assert api.get("/api/v1/me", headers=bearer(access)).status_code == 401
    html = client.get("/steward/clients").get_data(as_text=True)
    assert "The application is disabled" in html
    assert 'data-testid="client-disabled"' in html and f"disable-{planner.client_id}" not in html
    assert AuditAction.CLIENT_DISABLED in audit_actions(db_session)
    # disabling it again, or an unknown application: nothing there to disable
    assert post_form(client, "/steward/clients", action, {}).status_code == 404
    for unknown_id in ("nope", "a%20b", "x" * 65):
        action = f"/steward/clients/{unknown_id}/disable"
        assert post_form(client, "/steward/clients", action, {}).status_code == 404, unknown_id


@pytest.mark.parametrize("who", ["anonymous", "member", "no form token"])
def test_only_a_steward_disables_an_application(
    client: FlaskClient, db_session: Session, make_member: MakeMember, who: str
) -> None:
    planner = register(db_session)
    action = f"/steward/clients/{planner.client_id}/disable"
    if who == "anonymous":
        response = post_form(client, "/signin", action, {})
        assert response.status_code == 302 and "/signin" in response.headers["Location"]
    elif who == "member":
        _signed_in(client, make_member())
        assert post_form(client, "/", action, {}).status_code == 403
    else:
        _signed_in(client, make_member(steward=True))
        assert client.post(action).status_code == 400
    db_session.expire_all()
    assert db_session.get(OAuthClient, planner.id).disabled_at is None  # type: ignore[union-attr]
