"""The licence ledger: each payment under a licence the board passed is split by the CLT
shared-equity rule (cltd.rules.equity): the contributors' share pro rata to the records served
under that licence, the rest to the commons fund. Exact cents; the parts add up to the whole."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cltd.models import (
    AccessEvent,
    AccessEventContributor,
    Grant,
    LedgerShare,
    LicencePayment,
    Proposal,
    ProposalStatus,
)
from cltd.rules.bylaws import Bylaws, ProposalKind
from cltd.rules.codes import Code
from cltd.rules.equity import split_payment
from cltd.services import audit
from cltd.services.audit import AuditAction
from cltd.services.errors import InvalidInput
from cltd.services.governance import get_proposal

MAX_CENTS = 10**13  # a hundred billion in any currency: a typo, not a payment
_AMOUNT = re.compile(r"\d{1,11}([.,]\d{1,2})?")


def cents(amount: str) -> int:
    """'1250', '1250.5' or '1250,50' as integer cents (exact: no float on the way)."""
    if not _AMOUNT.fullmatch(amount.strip()):
        raise InvalidInput(Code.PAYMENT_AMOUNT_INVALID, "amount")
    return int(Decimal(amount.strip().replace(",", ".")) * 100)


def served_under(session: Session, proposal: Proposal) -> dict[int, int]:
    """Records served per contributor under the grant this licence issued."""
    rows = session.execute(
        select(AccessEventContributor.member_id, func.sum(AccessEventContributor.record_count))
        .join(AccessEvent, AccessEvent.id == AccessEventContributor.event_id)
        .join(Grant, Grant.id == AccessEvent.grant_id)
        .where(Grant.request_id == proposal.access_request_id)
        .group_by(AccessEventContributor.member_id)
    ).all()
    return {int(member): int(count) for member, count in rows}


def record_payment(
    session: Session,
    bylaws: Bylaws,
    proposal_id: int,
    *,
    amount_cents: int,
    currency: str,
    note: str,
    actor: str,
    at: datetime,
) -> LicencePayment:
    proposal = get_proposal(session, proposal_id)
    if proposal.kind != ProposalKind.LICENCE or proposal.status != ProposalStatus.EXECUTED:
        raise InvalidInput(Code.PAYMENT_NOT_LICENCE, "proposal_id")
    if not 0 < amount_cents <= MAX_CENTS:
        raise InvalidInput(Code.PAYMENT_AMOUNT_INVALID, "amount")
    served = served_under(session, proposal)
    split = split_payment(amount_cents, served, bylaws.contributors_share)
    payment = LicencePayment(
        proposal_id=proposal.id,
        amount_cents=amount_cents,
        currency=currency,
        commons_cents=split.commons,
        note=note.strip(),
        received_at=at,
        recorded_by=actor,
    )
    session.add(payment)
    session.flush()
    for member_id, cents in sorted(split.contributors.items()):
        session.add(
            LedgerShare(
                payment_id=payment.id,
                member_id=member_id,
                records_served=served[member_id],
                amount_cents=cents,
            )
        )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PAYMENT_RECORDED,
        subject=f"proposal:{proposal.id}",
        at=at,
        details={
            "payment": payment.id,
            "amount_cents": amount_cents,
            "currency": currency,
            "commons_cents": split.commons,
            "contributors": {str(m): c for m, c in split.contributors.items()},
            "share": str(bylaws.contributors_share),
        },
    )
    return payment


@dataclass(frozen=True)
class LedgerLine:
    payment: LicencePayment
    contributors_cents: int
    contributors: int
    mine_cents: int | None


def ledger(session: Session, member_id: int | None = None) -> list[LedgerLine]:
    lines = []
    for payment in session.scalars(select(LicencePayment).order_by(LicencePayment.id.desc())):
        shares = list(
            session.scalars(select(LedgerShare).where(LedgerShare.payment_id == payment.id))
        )
        mine = [s.amount_cents for s in shares if s.member_id == member_id]
        lines.append(
            LedgerLine(
                payment,
                sum(s.amount_cents for s in shares),
                len(shares),
                mine[0] if mine else None,
            )
        )
    return lines


def shares_of_payment(session: Session, payment_id: int) -> list[LedgerShare]:
    return list(
        session.scalars(
            select(LedgerShare)
            .where(LedgerShare.payment_id == payment_id)
            .order_by(LedgerShare.member_id)
        )
    )
