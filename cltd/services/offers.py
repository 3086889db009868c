"""Transfers as the trust's people see them: the offers received and sent, the board proposal
that decides an offer, and putting an offer to the board (drafted and opened at once, as the
offer has a deadline). Accepting and refusing are services/transfers_in.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.models import (
    UNDECIDED,
    Direction,
    Member,
    Proposal,
    Transfer,
    TransferState,
)
from cltd.rules.bylaws import Bylaws, ProposalKind
from cltd.rules.codes import N_, Code
from cltd.services import governance, transfers, transfers_in
from cltd.services.errors import NotFound
from cltd.services.members import actor_of


def expire_due(session: Session, at: datetime) -> None:
    """Offers, made or received, whose time ran out end as expired (no scheduler: the worker
    and every read of the transfers call this)."""
    transfers.expire_due(session, at)
    transfers_in.expire_due(session, at)


def list_all(session: Session, at: datetime) -> list[Transfer]:
    """Every transfer, newest first, after ending the offers whose time ran out."""
    expire_due(session, at)
    return transfers.list_transfers(session)


def get(session: Session, transfer_pk: int) -> Transfer:
    transfer = session.get(Transfer, transfer_pk)
    if transfer is None:
        raise NotFound(Code.TRANSFER_UNKNOWN, "transfer_id")
    return transfer


def deciding_proposals(session: Session, at: datetime | None = None) -> dict[int, Proposal]:
    """For each incoming transfer put to the board, its newest accept_asset proposal; with AT,
    one whose vote is over is closed first (no scheduler), so its status is the outcome."""
    found: dict[int, Proposal] = {}
    for proposal in session.scalars(
        select(Proposal).where(Proposal.transfer_pk.is_not(None)).order_by(Proposal.id)
    ):
        assert proposal.transfer_pk is not None
        found[proposal.transfer_pk] = proposal
    if at is not None:
        for proposal in found.values():
            governance.settle(session, proposal, at)
    return found


def waiting_for_board(session: Session, at: datetime) -> list[Transfer]:
    """Offers received, still open, that no pending proposal puts to the board yet."""
    deciding = deciding_proposals(session, at)
    open_offers = session.scalars(
        select(Transfer)
        .where(
            Transfer.direction == Direction.INCOMING,
            Transfer.state == TransferState.OFFERED,
            Transfer.expires_at > at,
        )
        .order_by(Transfer.id.desc())
    )
    return [
        t for t in open_offers if t.id not in deciding or deciding[t.id].status not in UNDECIDED
    ]


def of_proposal(session: Session, proposal: Proposal) -> Transfer | None:
    """The offer an accept_asset proposal decides, or the offer a transfer proposal made."""
    if proposal.kind not in (ProposalKind.TRANSFER, ProposalKind.ACCEPT_ASSET):
        return None
    if proposal.transfer_pk is not None:
        return session.get(Transfer, proposal.transfer_pk)
    return session.scalar(
        select(Transfer)
        .where(Transfer.proposal_id == proposal.id, Transfer.direction == Direction.OUTGOING)
        .order_by(Transfer.id.desc())
        .limit(1)
    )


def trusts_of(session: Session, transfer_ids: Iterable[str]) -> dict[str, str]:
    """The other trust's name for each transfer id (audit entries name transfers by id)."""
    wanted = set(transfer_ids)
    if not wanted:
        return {}
    found = session.scalars(select(Transfer).where(Transfer.transfer_id.in_(wanted)))
    return {t.transfer_id: t.peer.name for t in found}


# The accept_asset proposal that puts an offer to the board; the page, the API and the CLI
# each translate it with their own gettext, into their reader's language.
_BOARD_TITLE = N_("Accept “%(title)s” from %(trust)s")
_BOARD_TEXT = N_(
    "%(trust)s offers this trust “%(title)s”: %(records)s records of %(contributors)s "
    "contributors, with the consents they gave. Its own board decided to transfer it here. "
    "Carrying out a yes accepts the offer."
)


def board_proposal_words(
    transfer: Transfer, title: str, translate: Callable[..., str]
) -> tuple[str, str]:
    """The title and text of the proposal putting TRANSFER (whose title reads TITLE) to the
    board, in TRANSLATE's language."""
    trust = transfer.peer.name
    return (
        translate(_BOARD_TITLE, title=title, trust=trust)[:200],
        translate(
            _BOARD_TEXT,
            trust=trust,
            title=title,
            records=transfer.records,
            contributors=transfer.contributors,
        ),
    )


def put_to_board(
    session: Session,
    bylaws: Bylaws,
    transfer_pk: int,
    *,
    author: Member,
    title: str,
    text: str,
    at: datetime,
) -> Proposal:
    """Draft an accept_asset proposal for an open offer and open it for voting at once: the
    offer expires, and there is nothing to edit in it (the offer is what it is)."""
    get(session, transfer_pk)
    proposal = governance.propose(
        session,
        bylaws,
        author=author,
        kind=ProposalKind.ACCEPT_ASSET,
        title=title,
        text=text,
        at=at,
        transfer_pk=transfer_pk,
    )
    return governance.open_voting(
        session, bylaws, proposal, actor=actor_of(author), at=at, by=author
    )
