"""Admitting members, signing them in and out, their language and their roles."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cltd.adapters.passwords import hash_password, needs_rehash, verify_password
from cltd.config import SUPPORTED_LOCALES
from cltd.models import Member, MemberStatus, Seat, WebSession
from cltd.rules.bylaws import Bylaws
from cltd.rules.codes import Code
from cltd.rules.roles import Role
from cltd.services import audit
from cltd.services.audit import AuditAction
from cltd.services.errors import Conflict, InvalidInput

MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def actor_of(member: Member | None) -> str:
    return f"member:{member.id}" if member is not None else "anonymous"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def add_member(
    session: Session,
    bylaws: Bylaws,
    *,
    email: str,
    display_name: str,
    member_class: str,
    password: str,
    actor: str,
    at: datetime,
    is_steward: bool = False,
    locale: str | None = None,
) -> Member:
    """Admit a member to exactly one of the bylaws' three classes."""
    email = normalise_email(email)
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput(Code.EMAIL_INVALID, "email")
    display_name = display_name.strip()
    if not display_name or len(display_name) > 120:
        raise InvalidInput(Code.NAME_REQUIRED, "display_name")
    if member_class not in bylaws.class_keys():
        raise InvalidInput(Code.CLASS_UNKNOWN, "member_class", {"value": member_class})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(Code.PASSWORD_TOO_SHORT, "password", {"minimum": MIN_PASSWORD_LENGTH})
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise InvalidInput(Code.LOCALE_UNKNOWN, "locale")
    member = session.scalar(select(Member).where(Member.email == email))
    if member is not None and member.status != MemberStatus.NON_MEMBER:
        raise Conflict(Code.EMAIL_TAKEN, "email")
    if member is None:
        member = Member(email=email, created_at=at)
        session.add(member)
    # A contributor of an asset received from another trust becomes a member: the same row,
    # so their records and the consents they carried stay theirs.
    member.display_name, member.member_class = display_name, member_class
    member.is_steward, member.locale = is_steward, locale
    member.password_hash, member.status = hash_password(password), MemberStatus.ACTIVE
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.MEMBER_ADDED,
        subject=f"member:{member.id}",
        at=at,
        details={"member_class": member_class, "steward": is_steward},
    )
    return member


def list_members(session: Session) -> list[Member]:
    return list(session.scalars(select(Member).order_by(Member.member_class, Member.display_name)))


def roles_of(session: Session, member: Member, at: datetime) -> frozenset[Role]:
    roles = {Role.MEMBER}
    if member.is_steward:
        roles.add(Role.STEWARD)
    seats = session.scalars(select(Seat).where(Seat.holder_id == member.id))
    if any(seat.held_by_at(member.id, at) for seat in seats):
        roles.add(Role.BOARD)
    return frozenset(roles)


def set_locale(session: Session, member: Member, locale: str | None, at: datetime) -> None:
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise InvalidInput(Code.LOCALE_UNKNOWN, "locale")
    if member.locale == locale:
        return
    member.locale = locale
    audit.record(
        session,
        actor=actor_of(member),
        action=AuditAction.MEMBER_LOCALE_CHANGED,
        subject=f"member:{member.id}",
        at=at,
        details={"locale": locale},
    )


# --- signing in and out -------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class SignIn:
    member: Member
    token: str  # goes into the signed cookie; only its hash is stored


def sign_in(
    session: Session, *, email: str, password: str, at: datetime, lifetime: timedelta
) -> SignIn:
    """Check a password and open a new server-side session (a new id every time: no fixation)."""
    member = session.scalar(select(Member).where(Member.email == normalise_email(email)))
    stored = member.password_hash if member is not None else None
    if not verify_password(stored, password) or member is None:
        raise InvalidInput(Code.SIGNIN_FAILED, "password")
    if member.status != MemberStatus.ACTIVE:
        raise InvalidInput(Code.SIGNIN_FAILED, "password")
    if stored is not None and needs_rehash(stored):
        member.password_hash = hash_password(password)
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_token_hash(token),
            member_id=member.id,
            created_at=at,
            last_seen_at=at,
            expires_at=at + lifetime,
        )
    )
    audit.record(
        session,
        actor=actor_of(member),
        action=AuditAction.SIGNED_IN,
        subject=f"member:{member.id}",
        at=at,
    )
    return SignIn(member, token)


def member_for_token(session: Session, token: str, at: datetime) -> Member | None:
    found = session.scalar(select(WebSession).where(WebSession.token_hash == _token_hash(token)))
    if found is None or found.expires_at <= at:
        return None
    member = found.member
    return member if member.status == MemberStatus.ACTIVE else None


def sign_out(session: Session, token: str, at: datetime) -> None:
    """End the session on the server, so a copied cookie is worth nothing afterwards."""
    found = session.scalar(select(WebSession).where(WebSession.token_hash == _token_hash(token)))
    if found is None:
        return
    member_id = found.member_id
    session.execute(delete(WebSession).where(WebSession.id == found.id))
    audit.record(
        session,
        actor=f"member:{member_id}",
        action=AuditAction.SIGNED_OUT,
        subject=f"member:{member_id}",
        at=at,
    )
