"""`cltd transfers`: the assets this trust and the peer trusts it pins offer each other. An
offer received is accepted or refused by the steward, or put to the board, as the bylaws say
(transfers.incoming); custody moves only when the records have arrived (`cltd worker`)."""

from __future__ import annotations

import click

from cltd.adapters.clock import now
from cltd.cli.board import member_by_email
from cltd.cli.context import CliContext
from cltd.cli.errors import from_service_error
from cltd.cli.text import _, terminal_locale
from cltd.db import session_scope
from cltd.models import Transfer
from cltd.services import offers, transfers_in
from cltd.services.errors import ServiceError

CLI_ACTOR = "steward:cli"


def _title(transfer: Transfer) -> str:
    titles = transfer.title
    return titles.get(terminal_locale()) or next(
        (text for text in titles.values() if text), transfer.transfer_id
    )


@click.group("transfers")
def transfers_group() -> None:
    """Assets offered between this trust and its peer trusts: list, accept, refuse."""


@transfers_group.command("list")
@click.pass_obj
def list_(ctx: CliContext) -> None:
    """Every transfer, newest first: id, direction, state, the other trust, title, records,
    expiry (offers whose time ran out are ended first)."""
    with session_scope(ctx.sessions) as session:
        for t in offers.list_all(session, now()):
            click.echo(
                f"{t.id}\t{t.direction}\t{t.state}\t{t.peer.name}\t{_title(t)}\t"
                f"{t.records}\t{t.expires_at.isoformat(timespec='seconds')}"
            )


@transfers_group.command("accept")
@click.argument("transfer_id", type=int)
@click.pass_obj
def accept(ctx: CliContext, transfer_id: int) -> None:
    """Accept the offer TRANSFER_ID (where the bylaws give offers to the steward)."""
    try:
        with session_scope(ctx.sessions) as session:
            transfer = transfers_in.accept_by_steward(
                session, ctx.bylaws, offers.get(session, transfer_id).id, actor=CLI_ACTOR, at=now()
            )
            trust = transfer.peer.name
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(
        _(
            "Accepted. `cltd worker` fetches the records from %(trust)s; the asset is this "
            "trust's once they hand it over.",
            trust=trust,
        )
    )


@transfers_group.command("refuse")
@click.argument("transfer_id", type=int)
@click.option("--reason", required=True, help="Why, in words the other trust sees.")
@click.pass_obj
def refuse(ctx: CliContext, transfer_id: int, reason: str) -> None:
    """Refuse the offer TRANSFER_ID; the asset stays with the trust that offered it."""
    try:
        with session_scope(ctx.sessions) as session:
            transfer = transfers_in.refuse(
                session,
                ctx.bylaws,
                offers.get(session, transfer_id).id,
                reason=reason,
                actor=CLI_ACTOR,
                at=now(),
            )
            trust = transfer.peer.name
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(_("Refused. %(trust)s is told why; the asset stays with it.", trust=trust))


@transfers_group.command("propose")
@click.argument("transfer_id", type=int)
@click.option("--as", "author_email", required=True, help="The seat holder or steward drafting.")
@click.pass_obj
def propose(ctx: CliContext, transfer_id: int, author_email: str) -> None:
    """Put the offer TRANSFER_ID to the board: an accept_asset proposal, opened for voting."""
    try:
        with session_scope(ctx.sessions) as session:
            transfer = offers.get(session, transfer_id)
            title, text = offers.board_proposal_words(transfer, _title(transfer), _)
            proposal = offers.put_to_board(
                session,
                ctx.bylaws,
                transfer.id,
                author=member_by_email(session, author_email),
                title=title,
                text=text,
                at=now(),
            )
            proposal_id, closes = proposal.id, proposal.closes_at
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(
        _(
            "Proposal %(id)s puts the offer to the board; voting is open until %(when)s.",
            id=proposal_id,
            when=closes.isoformat() if closes else "?",
        )
    )


COMMANDS = [transfers_group]
