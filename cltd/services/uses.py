"""'Who used my data': every read that served a member's records (invariant 5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.models import (
    AccessEvent,
    AccessEventContributor,
    OutboxJob,
    Transfer,
    TransferContributor,
    TransferState,
)


@dataclass(frozen=True)
class Use:
    at: datetime
    client_name: str
    organisation: str
    asset_slug: str
    asset_title: dict[str, str]
    purpose: str
    records: int


def uses_of(session: Session, member_id: int, *, limit: int = 500) -> list[Use]:
    rows = session.execute(
        select(AccessEventContributor, AccessEvent)
        .join(AccessEvent, AccessEvent.id == AccessEventContributor.event_id)
        .where(AccessEventContributor.member_id == member_id)
        .order_by(AccessEvent.at.desc(), AccessEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        Use(
            event.at,
            event.client.name,
            event.client.organisation,
            event.asset.slug,
            event.asset.title,
            event.purpose,
            part.record_count,
        )
        for part, event in rows
    ]


@dataclass(frozen=True)
class Move:
    """The member's records in an asset went to another trust, by decision of the board."""

    at: datetime
    trust: str
    trust_url: str
    asset_slug: str
    asset_title: dict[str, str]
    records: int
    transfer_id: str


def moves_of(session: Session, member_id: int) -> list[Move]:
    rows = session.execute(
        select(TransferContributor, Transfer)
        .join(Transfer, Transfer.id == TransferContributor.transfer_pk)
        .where(
            TransferContributor.member_id == member_id,
            Transfer.state == TransferState.COMPLETED,
        )
        .order_by(Transfer.updated_at.desc())
    ).all()
    return [
        Move(
            transfer.updated_at,
            transfer.peer.name,
            transfer.peer.origin,
            transfer.asset.slug if transfer.asset else "",
            dict(transfer.title),
            part.record_count,
            transfer.transfer_id,
        )
        for part, transfer in rows
    ]


def notices_of(session: Session, member_id: int) -> list[OutboxJob]:
    """Revocation notices this member's withdrawals caused, with their delivery status."""
    return list(
        session.scalars(
            select(OutboxJob).where(OutboxJob.member_id == member_id).order_by(OutboxJob.id.desc())
        )
    )
