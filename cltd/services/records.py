"""Records: contributed by members, imported by stewards, read by consumers for a purpose.

The read is invariant 1 and 2 as one query: at the moment it runs it serves only records of
held assets whose contributor is active and has a live consent covering the purpose (the
purpose or an ancestor; this asset or all), only under the consumer's live grant, and only the
fields the policy allows for that purpose. Nothing is cached between reads.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, insert, or_, select
from sqlalchemy.orm import Session

from cltd.adapters.canonical import canonical_json
from cltd.adapters.vault import KeyRing, Sealed, VaultError, open_sealed, record_aad, seal
from cltd.models import (
    AccessEvent,
    AccessEventContributor,
    Asset,
    Consent,
    Grant,
    Member,
    MemberStatus,
    OAuthClient,
    Record,
)
from cltd.rules.codes import Code
from cltd.rules.consent import covering_purposes
from cltd.rules.fields import check_record
from cltd.rules.policy import purpose_use, served_fields
from cltd.rules.purposes import PurposeTaxonomy
from cltd.services import audit, transfers
from cltd.services.assets import fields_of, policy_of
from cltd.services.audit import AuditAction
from cltd.services.datakeys import DataKeys
from cltd.services.errors import Forbidden, InvalidInput

MAX_PAGE = 1000


def may_contribute(asset: Asset, member: Member) -> bool:
    """The asset names no contributing classes, or names the member's."""
    return not asset.contributing_classes or member.member_class in asset.contributing_classes


def count_by_asset(session: Session) -> dict[int, int]:
    rows = session.execute(select(Record.asset_id, func.count()).group_by(Record.asset_id)).all()
    return {int(asset_id): int(count) for asset_id, count in rows}


def _seal_record(
    keys: DataKeys, asset: Asset, member: Member, values: Mapping[str, Any], at: datetime
) -> Record:
    clean, problem = check_record(fields_of(asset), values)
    if problem is not None:
        raise InvalidInput(problem.code, problem.field, problem.params)
    if member.status != MemberStatus.ACTIVE:
        raise Forbidden(Code.MEMBER_NOT_ACTIVE, "member")
    if not may_contribute(asset, member):
        raise Forbidden(Code.NOT_A_CONTRIBUTING_CLASS, "member_class")
    key = keys.for_member(member.id, create=True, at=at)
    assert key is not None
    uid = uuid.uuid4().hex
    sealed = seal(key, canonical_json(clean), record_aad(asset.id, uid, member.id))
    return Record(
        uid=uid,
        asset_id=asset.id,
        contributor_id=member.id,
        nonce=sealed.nonce,
        ciphertext=sealed.ciphertext,
        created_at=at,
    )


def contribute(
    session: Session,
    ring: KeyRing,
    *,
    asset: Asset,
    member: Member,
    values: Mapping[str, Any],
    at: datetime,
) -> Record:
    transfers.refuse_if_offered(session, asset.id)
    record = _seal_record(DataKeys(session, ring), asset, member, values, at)
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=f"member:{member.id}",
        action=AuditAction.RECORD_CONTRIBUTED,
        subject=f"asset:{asset.id}",
        at=at,
        details={"record": record.uid},
    )
    return record


@dataclass(frozen=True)
class ImportRow:
    line: int
    contributor_email: str
    values: Mapping[str, Any]


class ImportProblem(Exception):
    """A row that stops an import: nothing of the import is written."""

    def __init__(self, line: int, error: InvalidInput | Forbidden) -> None:
        super().__init__(f"line {line}")
        self.line = line
        self.error = error


def import_records(
    session: Session,
    ring: KeyRing,
    *,
    asset: Asset,
    rows: Iterable[ImportRow],
    actor: str,
    at: datetime,
) -> int:
    """All or nothing: the caller's transaction rolls back on the first bad row."""
    transfers.refuse_if_offered(session, asset.id)
    keys = DataKeys(session, ring)
    members: dict[str, Member | None] = {}
    count = 0
    for row in rows:
        email = row.contributor_email.strip().lower()
        if email not in members:
            members[email] = session.scalar(
                select(Member).where(Member.email == email, Member.status == MemberStatus.ACTIVE)
            )
        member = members[email]
        try:
            if not email:
                raise InvalidInput(Code.CONTRIBUTOR_MISSING, "contributor")
            if member is None:
                raise InvalidInput(Code.CONTRIBUTOR_UNKNOWN, "contributor", {"email": email})
            session.add(_seal_record(keys, asset, member, row.values, at))
        except (InvalidInput, Forbidden) as error:
            raise ImportProblem(row.line, error) from None
        count += 1
        if count % 500 == 0:
            session.flush()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RECORDS_IMPORTED,
        subject=f"asset:{asset.id}",
        at=at,
        details={"records": count},
    )
    return count


# --- reading for a purpose -------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    next_after: int | None
    fields: list[str]


def live_grant(
    session: Session, client: OAuthClient, asset_id: int, purpose: str, at: datetime
) -> Grant | None:
    return session.scalar(
        select(Grant)
        .where(
            Grant.client_pk == client.id,
            Grant.asset_id == asset_id,
            Grant.purpose == purpose,
            Grant.starts_at <= at,
            Grant.expires_at > at,
            Grant.revoked_at.is_(None),
        )
        .order_by(Grant.expires_at.desc())
        .limit(1)
    )


def consent_filter(taxonomy: PurposeTaxonomy, asset_id: int, purpose: str, at: datetime):  # type: ignore[no-untyped-def]
    """SQL: the record's contributor has a live consent covering PURPOSE for this asset."""
    return exists().where(
        Consent.member_id == Record.contributor_id,
        Consent.purpose.in_(covering_purposes(taxonomy, purpose)),
        or_(Consent.asset_id.is_(None), Consent.asset_id == asset_id),
        Consent.granted_at <= at,
        or_(Consent.withdrawn_at.is_(None), Consent.withdrawn_at > at),
        or_(Consent.expires_at.is_(None), Consent.expires_at > at),
    )


def read_page(
    session: Session,
    ring: KeyRing,
    taxonomy: PurposeTaxonomy,
    *,
    client: OAuthClient,
    asset: Asset,
    purpose: str,
    after: int,
    limit: int,
    at: datetime,
) -> Page:
    """One page of what CLIENT may read of ASSET for PURPOSE right now (keyset by record id)."""
    usable = purpose_use(policy_of(asset), taxonomy, purpose)
    if not usable:
        assert usable.code is not None
        raise Forbidden(usable.code, "purpose", usable.params)
    grant = live_grant(session, client, asset.id, purpose, at)
    if grant is None:
        raise Forbidden(Code.NO_LIVE_GRANT, "purpose")
    allowed = sorted(served_fields(policy_of(asset), taxonomy, purpose))
    rows = (
        session.execute(
            select(Record)
            .join(Member, Member.id == Record.contributor_id)
            .where(
                Record.asset_id == asset.id,
                Record.id > after,
                # Contributors of an asset received from another trust are served too.
                Member.status.in_((MemberStatus.ACTIVE, MemberStatus.NON_MEMBER)),
                consent_filter(taxonomy, asset.id, purpose, at),
            )
            .order_by(Record.id)
            .limit(min(max(limit, 1), MAX_PAGE))
        )
        .scalars()
        .all()
    )
    keys = DataKeys(session, ring)
    keys.preload(record.contributor_id for record in rows)
    served: list[dict[str, Any]] = []
    per_member: dict[int, int] = {}
    unreadable: list[str] = []
    for record in rows:
        key = keys.for_member(record.contributor_id, create=False, at=at)
        if key is None:  # shredded, or a key that no longer opens: serve nothing of theirs
            if record.contributor_id in keys.broken:
                unreadable.append(record.uid)
            continue
        try:
            plaintext = open_sealed(
                key,
                Sealed(record.nonce, record.ciphertext),
                record_aad(asset.id, record.uid, record.contributor_id),
            )
        except VaultError:  # tampered or moved: never served, and said so in the audit log
            unreadable.append(record.uid)
            continue
        values = json.loads(plaintext)
        served.append({"id": record.uid, **{k: values[k] for k in allowed if k in values}})
        per_member[record.contributor_id] = per_member.get(record.contributor_id, 0) + 1
    _log_read(session, client, asset, purpose, grant, per_member, len(served), at)
    if unreadable:
        audit.record(
            session,
            actor="system",
            action=AuditAction.RECORDS_UNREADABLE,
            subject=f"asset:{asset.id}",
            at=at,
            details={"records": unreadable},
        )
    next_after = rows[-1].id if len(rows) == min(max(limit, 1), MAX_PAGE) else None
    return Page(served, next_after, allowed)


def _log_read(
    session: Session,
    client: OAuthClient,
    asset: Asset,
    purpose: str,
    grant: Grant,
    per_member: Mapping[int, int],
    count: int,
    at: datetime,
) -> None:
    event = AccessEvent(
        client_pk=client.id,
        asset_id=asset.id,
        purpose=purpose,
        grant_id=grant.id,
        at=at,
        record_count=count,
    )
    session.add(event)
    session.flush()
    if per_member:
        session.execute(
            insert(AccessEventContributor),
            [
                {"event_id": event.id, "member_id": m, "record_count": n}
                for m, n in per_member.items()
            ],
        )
    audit.record(
        session,
        actor=f"client:{client.client_id}",
        action=AuditAction.RECORDS_READ,
        subject=f"asset:{asset.id}",
        at=at,
        details={"purpose": purpose, "records": count, "contributors": sorted(per_member)},
    )
