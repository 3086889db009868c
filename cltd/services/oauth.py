"""OAuth 2.0 state: clients, single-use codes, rotating refresh tokens, revocation.

authlib runs the protocol (cltd.web.oauth); this module owns what is stored. Codes and
refresh tokens are consumed by one conditional UPDATE, so of many parallel redemptions exactly
one wins (reliability R3, R4); presenting a spent one revokes everything it led to.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cltd.models import ClientType, Member, OAuthClient, OAuthCode, OAuthToken
from cltd.rules.codes import Code
from cltd.rules.roles import Scope
from cltd.services import audit
from cltd.services.audit import AuditAction
from cltd.services.errors import InvalidInput, NotFound

CODE_LIFETIME = timedelta(seconds=60)
REFRESH_LIFETIME = timedelta(days=30)  # absolute, from the first token of a family
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
_LOOPBACK_HOSTS = {"localhost"}


def digest(secret: str) -> str:
    """Tokens and client secrets are long random strings: a plain SHA-256 is the right hash."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _check_redirect_uri(uri: str) -> None:
    _check_web_address(uri, "redirect_uris")


def _check_web_address(uri: str, field: str) -> None:
    """https anywhere, or http only on this machine (a native app, a test); no fragment."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    try:
        loopback = host in _LOOPBACK_HOSTS or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    secure = parts.scheme == "https" or (parts.scheme == "http" and loopback)
    if not secure or not host or parts.fragment or "#" in uri or parts.username:
        raise InvalidInput(Code.CLIENT_REDIRECT_URI_INVALID, field, {"value": uri})


@dataclass(frozen=True)
class Registered:
    client: OAuthClient
    secret: str | None  # shown once to the steward; only its hash is kept


def register_client(
    session: Session,
    *,
    name: str,
    organisation: str,
    client_type: str,
    redirect_uris: Iterable[str],
    scopes: Iterable[str],
    grant_types: Iterable[str],
    may_introspect: bool,
    actor: str,
    at: datetime,
    webhook_url: str | None = None,
) -> Registered:
    name, organisation = name.strip(), organisation.strip()
    if not name or not organisation or len(name) > 120 or len(organisation) > 200:
        raise InvalidInput(Code.CLIENT_NAME_REQUIRED, "name" if not name else "organisation")
    if client_type not in tuple(ClientType):
        raise InvalidInput(Code.CLIENT_TYPE_UNKNOWN, "client_type")
    uris = list(dict.fromkeys(u.strip() for u in redirect_uris if u.strip()))
    for uri in uris:
        _check_redirect_uri(uri)
    scope_list = list(dict.fromkeys(scopes))
    for scope in scope_list:
        if scope not in tuple(Scope):
            raise InvalidInput(Code.CLIENT_SCOPE_UNKNOWN, "scopes", {"value": scope})
    grants = list(dict.fromkeys(grant_types))
    for grant in grants:
        if grant not in GRANT_TYPES:
            raise InvalidInput(Code.CLIENT_GRANT_UNKNOWN, "grant_types", {"value": grant})
    if "authorization_code" in grants and not uris:
        raise InvalidInput(Code.CLIENT_REDIRECT_URI_REQUIRED, "redirect_uris")
    if client_type == ClientType.PUBLIC and "client_credentials" in grants:
        raise InvalidInput(Code.CLIENT_PUBLIC_NO_CREDENTIALS, "grant_types")
    webhook_url = (webhook_url or "").strip() or None
    if webhook_url is not None:
        _check_web_address(webhook_url, "webhook_url")
    secret = secrets.token_urlsafe(32) if client_type == ClientType.CONFIDENTIAL else None
    client = OAuthClient(
        # Hex, so a steward can paste it after a command without it reading as an option.
        client_id=secrets.token_hex(16),
        secret_hash=digest(secret) if secret else None,
        name=name,
        organisation=organisation,
        client_type=client_type,
        redirect_uris=uris,
        scopes=scope_list,
        grant_types=grants,
        may_introspect=may_introspect,
        webhook_url=webhook_url,
        created_at=at,
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.CLIENT_REGISTERED,
        subject=f"client:{client.client_id}",
        at=at,
        details={
            "name": name,
            "organisation": organisation,
            "type": client_type,
            "scopes": scope_list,
            "grant_types": grants,
        },
    )
    return Registered(client, secret)


def find_client(session: Session, client_id: str) -> OAuthClient | None:
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    return client if client is not None and client.disabled_at is None else None


def check_client_secret(client: OAuthClient, secret: str) -> bool:
    return client.secret_hash is not None and hmac.compare_digest(
        client.secret_hash, digest(secret)
    )


def list_clients(session: Session) -> list[OAuthClient]:
    return list(session.scalars(select(OAuthClient).order_by(OAuthClient.created_at)))


def disable_client(session: Session, client_id: str, *, actor: str, at: datetime) -> None:
    """Switch an application off: its tokens stop working at once."""
    client = find_client(session, client_id)
    if client is None:
        raise NotFound(Code.CLIENT_UNKNOWN, "client_id")
    client.disabled_at = at
    session.execute(
        update(OAuthToken)
        .where(OAuthToken.client_pk == client.id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.CLIENT_DISABLED,
        subject=f"client:{client_id}",
        at=at,
    )


# --- authorization codes ----------------------------------------------------------------------


def save_code(
    session: Session,
    *,
    client: OAuthClient,
    member: Member,
    code: str,
    redirect_uri: str,
    scope: str,
    challenge: str,
    method: str,
    at: datetime,
) -> None:
    session.add(
        OAuthCode(
            code_hash=digest(code),
            client_pk=client.id,
            member_id=member.id,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=challenge,
            code_challenge_method=method,
            created_at=at,
            expires_at=at + CODE_LIFETIME,
        )
    )


def consume_code(
    session: Session, code: str, client: OAuthClient, at: datetime
) -> OAuthCode | None:
    """Spend a code once. A second presentation revokes every token the code produced."""
    won = session.execute(
        update(OAuthCode)
        .where(OAuthCode.code_hash == digest(code), OAuthCode.used_at.is_(None))
        .values(used_at=at)
        .returning(OAuthCode.id)
    ).scalar_one_or_none()
    if won is None:
        spent = session.scalar(select(OAuthCode).where(OAuthCode.code_hash == digest(code)))
        if spent is not None:
            _revoke_where(
                session,
                OAuthToken.code_id == spent.id,
                at,
                reason="authorization code replayed",
                subject=f"code:{spent.id}",
            )
        return None
    found = session.get(OAuthCode, won, populate_existing=True)
    if found is None or found.client_pk != client.id or found.expires_at <= at:
        return None
    return found


# --- tokens -------------------------------------------------------------------------------------


def save_token(
    session: Session,
    token: Mapping[str, object],
    *,
    client: OAuthClient,
    member: Member | None,
    at: datetime,
    code: OAuthCode | None = None,
    parent: OAuthToken | None = None,
) -> OAuthToken:
    refresh = token.get("refresh_token")
    expires_in = int(token.get("expires_in", 3600))  # type: ignore[call-overload]
    row = OAuthToken(
        access_token_hash=digest(str(token["access_token"])),
        refresh_token_hash=digest(str(refresh)) if refresh else None,
        client_pk=client.id,
        member_id=member.id if member is not None else None,
        scope=str(token.get("scope", "")),
        family=parent.family if parent is not None else uuid.uuid4().hex,
        code_id=code.id if code is not None else (parent.code_id if parent else None),
        issued_at=at,
        access_expires_at=at + timedelta(seconds=expires_in),
        refresh_expires_at=(
            (parent.refresh_expires_at if parent is not None else at + REFRESH_LIFETIME)
            if refresh
            else None
        ),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=f"client:{client.client_id}",
        action=AuditAction.TOKEN_ISSUED,
        subject=f"token:{row.id}",
        at=at,
        details={
            "member": row.member_id,
            "scope": row.scope,
            "family": row.family,
            "rotated_from": parent.id if parent is not None else None,
        },
    )
    return row


def consume_refresh_token(
    session: Session, refresh: str, client: OAuthClient, at: datetime
) -> OAuthToken | None:
    """Spend a refresh token once (rotation). Reusing a spent one revokes its whole family."""
    won = session.execute(
        update(OAuthToken)
        .where(
            OAuthToken.refresh_token_hash == digest(refresh),
            OAuthToken.refresh_used_at.is_(None),
            OAuthToken.revoked_at.is_(None),
        )
        .values(refresh_used_at=at)
        .returning(OAuthToken.id)
    ).scalar_one_or_none()
    if won is None:
        spent = session.scalar(
            select(OAuthToken).where(OAuthToken.refresh_token_hash == digest(refresh))
        )
        if spent is not None and spent.refresh_used_at is not None:
            _revoke_where(
                session,
                OAuthToken.family == spent.family,
                at,
                reason="refresh token reused",
                subject=f"family:{spent.family}",
            )
        return None
    row = session.get(OAuthToken, won, populate_existing=True)
    if (
        row is None
        or row.client_pk != client.id
        or row.refresh_expires_at is None
        or row.refresh_expires_at <= at
    ):
        return None
    return row


def retire_rotated(session: Session, row: OAuthToken, at: datetime) -> None:
    """The access token that came with a rotated refresh token stops working too."""
    if row.revoked_at is None:
        row.revoked_at = at


def _revoke_where(  # type: ignore[no-untyped-def]
    session: Session,
    condition,
    at: datetime,
    *,
    subject: str,
    reason: str | None = None,
    actor: str = "system",
    action: AuditAction = AuditAction.TOKEN_FAMILY_REVOKED,
) -> None:
    """Revoke every live token matching CONDITION, in one statement, and audit which."""
    revoked = (
        session.execute(
            update(OAuthToken)
            .where(condition, OAuthToken.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(OAuthToken.id)
        )
        .scalars()
        .all()
    )
    details: dict[str, object] = {"tokens": sorted(revoked)}
    if reason is not None:
        details["reason"] = reason
    audit.record(session, actor=actor, action=action, subject=subject, at=at, details=details)


def live_token(session: Session, access_token: str, at: datetime) -> OAuthToken | None:
    """The token behind a bearer string, if it is live right now (no cache: R5)."""
    row = session.scalar(
        select(OAuthToken).where(OAuthToken.access_token_hash == digest(access_token))
    )
    if row is None or not is_live(row, at):
        return None
    return row


def is_live(row: OAuthToken, at: datetime) -> bool:
    member_ok = row.member is None or row.member.status == "active"
    return (
        row.revoked_at is None
        and row.access_expires_at > at
        and row.client.disabled_at is None
        and member_ok
    )


def find_by_any(session: Session, token: str, hint: str | None) -> OAuthToken | None:
    """Look a token string up as an access or a refresh token (RFC 7009 / 7662)."""
    hashed = digest(token)
    columns = [OAuthToken.access_token_hash, OAuthToken.refresh_token_hash]
    if hint == "refresh_token":
        columns.reverse()
    for column in columns:
        row = session.scalar(select(OAuthToken).where(column == hashed))
        if row is not None:
            return row
    return None


def revoke(session: Session, row: OAuthToken, *, actor: str, at: datetime) -> None:
    """Revoke a token and, with it, the rest of its family (RFC 7009 §2.1)."""
    _revoke_where(
        session,
        OAuthToken.family == row.family,
        at,
        subject=f"family:{row.family}",
        actor=actor,
        action=AuditAction.TOKEN_REVOKED,
    )


def tokens_of(session: Session, member: Member | None, at: datetime) -> list[OAuthToken]:
    """Live tokens of one member (None: every live token, for a steward)."""
    query = select(OAuthToken).where(OAuthToken.revoked_at.is_(None)).order_by(OAuthToken.issued_at)
    if member is not None:
        query = query.where(OAuthToken.member_id == member.id)
    return [t for t in session.scalars(query) if is_live(t, at) or _refreshable(t, at)]


def authorised_at(session: Session, tokens: Iterable[OAuthToken]) -> dict[str, datetime]:
    """When each token's family began: the member's authorisation, not the latest rotation."""
    families = {t.family for t in tokens}
    if not families:
        return {}
    rows = session.execute(
        select(OAuthToken.family, func.min(OAuthToken.issued_at))
        .where(OAuthToken.family.in_(families))
        .group_by(OAuthToken.family)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def _refreshable(row: OAuthToken, at: datetime) -> bool:
    return (
        row.refresh_token_hash is not None
        and row.refresh_used_at is None
        and row.refresh_expires_at is not None
        and row.refresh_expires_at > at
    )


def revoke_by_id(
    session: Session, token_id: int, *, member: Member | None, actor: str, at: datetime
) -> None:
    """Revoke a token listed to a member (their own only) or to a steward (member=None)."""
    row = session.get(OAuthToken, token_id)
    if row is None or (member is not None and row.member_id != member.id):
        raise NotFound(Code.TOKEN_UNKNOWN, "token_id")
    revoke(session, row, actor=actor, at=at)
