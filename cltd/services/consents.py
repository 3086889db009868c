"""Members' consents per purpose, their history and receipts, and what follows a withdrawal.

Default is no consent. Granting adds a row; withdrawing ends the live rows for exactly that
(asset or all assets, purpose). A withdrawal takes effect for the next read that starts after
it commits (reads consult these rows in the same query) and queues a signed notice to every
consumer holding a live grant on the assets concerned, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from cltd.models import Asset, Consent, Grant, Member, MemberStatus
from cltd.rules.codes import Code
from cltd.rules.consent import ConsentState, consent_covers
from cltd.rules.purposes import PurposeTaxonomy
from cltd.services import audit, outbox
from cltd.services.audit import AuditAction
from cltd.services.errors import Forbidden, InvalidInput, NotFound

NOTICE_KIND = "revocation_notice"


def _check(session: Session, taxonomy: PurposeTaxonomy, asset_id: int | None, purpose: str) -> None:
    if purpose not in taxonomy:
        raise InvalidInput(Code.PURPOSE_UNKNOWN, "purpose", {"purpose": purpose})
    if asset_id is not None and session.get(Asset, asset_id) is None:
        raise NotFound(Code.ASSET_UNKNOWN, "asset_id")


def _live(at: datetime):  # type: ignore[no-untyped-def]
    """SQL: not withdrawn, and not expired at AT."""
    return and_(
        Consent.withdrawn_at.is_(None), or_(Consent.expires_at.is_(None), Consent.expires_at > at)
    )


def live_consents(session: Session, member_id: int, at: datetime) -> list[Consent]:
    return list(
        session.scalars(
            select(Consent)
            .where(
                Consent.member_id == member_id,
                _live(at),
            )
            .order_by(Consent.purpose, Consent.asset_id)
        )
    )


def history(session: Session, member_id: int) -> list[Consent]:
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.member_id == member_id)
            .order_by(Consent.granted_at.desc(), Consent.id.desc())
        )
    )


def grant(
    session: Session,
    taxonomy: PurposeTaxonomy,
    *,
    member: Member,
    asset_id: int | None,
    purpose: str,
    at: datetime,
    expires_at: datetime | None = None,
) -> Consent:
    """Consent to PURPOSE (and so its descendants) for one asset or all of them."""
    if member.status != MemberStatus.ACTIVE:
        raise Forbidden(Code.MEMBER_NOT_ACTIVE, "member")
    _check(session, taxonomy, asset_id, purpose)
    if expires_at is not None and expires_at <= at:
        raise InvalidInput(Code.CONSENT_EXPIRY_PAST, "expires_at")
    for live in _exact_live(session, member.id, asset_id, purpose, at):
        live.withdrawn_at = at  # replaced by the new row, with its own expiry
    consent = Consent(
        member_id=member.id,
        asset_id=asset_id,
        purpose=purpose,
        granted_at=at,
        expires_at=expires_at,
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor=f"member:{member.id}",
        action=AuditAction.CONSENT_GRANTED,
        subject=f"member:{member.id}",
        at=at,
        details={
            "consent": consent.id,
            "asset": asset_id,
            "purpose": purpose,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return consent


def withdraw(
    session: Session,
    taxonomy: PurposeTaxonomy,
    *,
    member: Member,
    asset_id: int | None,
    purpose: str,
    at: datetime,
) -> list[Consent]:
    _check(session, taxonomy, asset_id, purpose)
    ended = _exact_live(session, member.id, asset_id, purpose, at)
    for consent in ended:
        consent.withdrawn_at = at
    if ended:
        session.flush()
        audit.record(
            session,
            actor=f"member:{member.id}",
            action=AuditAction.CONSENT_WITHDRAWN,
            subject=f"member:{member.id}",
            at=at,
            details={"consents": [c.id for c in ended], "asset": asset_id, "purpose": purpose},
        )
        queue_notices(session, taxonomy, member, asset_id, purpose, at)
    return ended


def _exact_live(
    session: Session, member_id: int, asset_id: int | None, purpose: str, at: datetime
) -> list[Consent]:
    asset_match = Consent.asset_id.is_(None) if asset_id is None else Consent.asset_id == asset_id
    return list(
        session.scalars(
            select(Consent)
            .where(
                Consent.member_id == member_id,
                asset_match,
                Consent.purpose == purpose,
                _live(at),
            )
            .with_for_update()
        )
    )


def queue_notices(
    session: Session,
    taxonomy: PurposeTaxonomy,
    member: Member,
    asset_id: int | None,
    purpose: str,
    at: datetime,
) -> None:
    """Tell every consumer holding a live grant the withdrawal touches (outbox, same commit)."""
    affected = (purpose, *taxonomy.descendants(purpose))
    query = select(Grant).where(
        Grant.purpose.in_(affected), Grant.revoked_at.is_(None), Grant.expires_at > at
    )
    if asset_id is not None:
        query = query.where(Grant.asset_id == asset_id)
    for held in session.scalars(query):
        if not held.client.webhook_url:
            continue
        outbox.enqueue(
            session,
            NOTICE_KIND,
            held.client.webhook_url,
            {
                "type": "ConsentWithdrawn",
                "asset": held.asset.slug,
                "purpose": held.purpose,
                "contributor": f"member:{member.id}",
                "withdrawn_at": at.isoformat(),
                "client_id": held.client.client_id,
            },
            at,
            member_id=member.id,
        )


def receipt_document(consent: Consent, *, trust_name: str, issuer: str) -> dict[str, object]:
    """What a consent receipt says (signed by the caller with the trust's key)."""
    return {
        "type": "ConsentReceipt",
        "issuer": issuer,
        "trust": trust_name,
        "consent": consent.id,
        "subject": f"member:{consent.member_id}",
        "asset": consent.asset.slug if consent.asset is not None else None,
        "purpose": consent.purpose,
        "granted_at": consent.granted_at.isoformat(),
        "expires_at": consent.expires_at.isoformat() if consent.expires_at else None,
        "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
    }


def get_own(session: Session, member: Member, consent_id: int) -> Consent:
    consent = session.get(Consent, consent_id)
    if consent is None or consent.member_id != member.id:
        raise NotFound(Code.CONSENT_UNKNOWN, "consent_id")
    return consent


def covers(
    session: Session,
    taxonomy: PurposeTaxonomy,
    member_id: int,
    asset_id: int,
    purpose: str,
    at: datetime,
) -> bool:
    """Does the member have a live consent covering PURPOSE for this asset right now?"""
    live = [
        ConsentState(c.purpose, c.asset_id, c.granted_at, c.expires_at, c.withdrawn_at)
        for c in live_consents(session, member_id, at)
    ]
    return consent_covers(live, taxonomy, asset_id=asset_id, purpose=purpose, at=at)
