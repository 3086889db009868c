"""`cltd proposals`, `cltd elections` and `cltd ledger`: the board's work from a terminal,
through the same services as the pages (votes are cast by each seat holder on the pages or
the API, never by a steward on their behalf)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import click
from sqlalchemy import select

from cltd.adapters.clock import now
from cltd.cli.context import CliContext
from cltd.cli.errors import CliError, from_service_error
from cltd.cli.text import _
from cltd.db import session_scope
from cltd.models import Member
from cltd.rules.bylaws import ProposalKind
from cltd.services import assets as asset_service
from cltd.services import custody, governance, ledger, peers
from cltd.services import elections as election_service
from cltd.services.errors import ServiceError
from cltd.services.members import normalise_email

CLI_ACTOR = "steward:cli"


def member_by_email(session, email: str) -> Member:  # type: ignore[no-untyped-def]
    member = session.scalar(select(Member).where(Member.email == normalise_email(email)))
    if member is None:
        raise CliError(_("No member has the email address %(email)s.", email=email))
    return member


def our_base(ctx: CliContext) -> str | None:
    """The trust's origin as peers reach it (base_url in config.toml), as the web app says it;
    None if unset (an offer to a peer trust then asks for it)."""
    if not ctx.settings.base_url:
        return None
    parts = urlsplit(ctx.settings.base_url)
    return f"{parts.scheme}://{parts.netloc}"


def _moment(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise CliError(
            _("%(option)s: give a time with its zone, like 2027-01-31T12:00:00Z.", option=option)
        )
    return moment


@click.group("proposals")
def proposals_group() -> None:
    """Draft, open and carry out board proposals; list them with their tallies."""


@proposals_group.command("list")
@click.pass_obj
def list_proposals(ctx: CliContext) -> None:
    """Every proposal, newest first, with its status as of now."""
    with session_scope(ctx.sessions) as session:
        at = now()
        for proposal in governance.list_proposals(session):
            status, _tally = governance.outcome_now(session, proposal, at)
            click.echo(f"{proposal.id}\t{status}\t{proposal.kind}\t{proposal.title}")


@proposals_group.command("show")
@click.argument("proposal_id", type=int)
@click.pass_obj
def show(ctx: CliContext, proposal_id: int) -> None:
    """One proposal and its tally per class."""
    try:
        with session_scope(ctx.sessions) as session:
            proposal = governance.get_proposal(session, proposal_id)
            status, result = governance.outcome_now(session, proposal, now())
            click.echo(f"{proposal.title} [{proposal.kind}] — {status}")
            if proposal.closes_at:
                click.echo(_("voting closes %(when)s", when=proposal.closes_at.isoformat()))
            for row in result.classes if result else ():
                count = row.count
                verdict = _("passes") if row.passed else _("does not pass")
                click.echo(
                    f"  {row.member_class}: "
                    + _(
                        "%(yes)s yes, %(no)s no, %(abstain)s abstain, %(left)s not voted "
                        "of %(seats)s seats: %(verdict)s",
                        yes=count.yes,
                        no=count.no,
                        abstain=count.abstain,
                        left=count.not_voted,
                        seats=count.seats,
                        verdict=verdict,
                    )
                )
    except ServiceError as error:
        raise from_service_error(error) from None


@proposals_group.command("draft")
@click.option("--as", "author_email", required=True, help="The seat holder or steward drafting.")
@click.option(
    "--kind",
    required=True,
    # An offer from another trust is put to the board with `cltd transfers propose`.
    type=click.Choice([k.value for k in ProposalKind if k != ProposalKind.ACCEPT_ASSET]),
    help="What kind.",
)
@click.option("--title", required=True, help="A short title.")
@click.option("--text", default="", help="What is proposed, and why.")
@click.option("--asset", "asset_id", type=int, help="The asset (transfer, retire, lift_lock).")
@click.option("--recipient", help="Who receives the asset (transfer).")
@click.option("--recipient-locked", is_flag=True, help="The recipient is asset-locked.")
@click.option(
    "--to-peer",
    "to_peer",
    metavar="NAME_OR_URL",
    help="A trust this one pins (transfer): the asset is offered to it once the board decides.",
)
@click.option("--request", "request_id", type=int, help="The access request (licence).")
@click.option(
    "--bylaws",
    "bylaws_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The whole new bylaws file (amend_bylaws).",
)
@click.pass_obj
def draft(
    ctx: CliContext,
    author_email: str,
    kind: str,
    title: str,
    text: str,
    asset_id: int | None,
    recipient: str | None,
    recipient_locked: bool,
    to_peer: str | None,
    request_id: int | None,
    bylaws_file: Path | None,
) -> None:
    """Draft a proposal; `cltd proposals open ID` starts the vote."""
    try:
        with session_scope(ctx.sessions) as session:
            asset = asset_service.get_held(session, asset_id) if asset_id else None
            peer = peers.find_peer(session, to_peer) if to_peer else None
            proposal = governance.propose(
                session,
                ctx.bylaws,
                author=member_by_email(session, author_email),
                kind=ProposalKind(kind),
                title=title,
                text=text,
                at=now(),
                asset=asset,
                recipient=recipient,
                recipient_locked=recipient_locked,
                access_request_id=request_id,
                bylaws_text=bylaws_file.read_text(encoding="utf-8") if bylaws_file else None,
                recipient_peer_id=peer.id if peer is not None else None,
            )
            proposal_id = proposal.id
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(_("Proposal %(id)s drafted.", id=proposal_id))


@proposals_group.command("open")
@click.argument("proposal_id", type=int)
@click.pass_obj
def open_(ctx: CliContext, proposal_id: int) -> None:
    """Open a draft for voting: the seat holders now are its electorate."""
    try:
        with session_scope(ctx.sessions) as session:
            proposal = governance.get_locked(session, proposal_id)
            governance.open_voting(session, ctx.bylaws, proposal, actor=CLI_ACTOR, at=now())
            closes = proposal.closes_at
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(_("Voting is open until %(when)s.", when=closes.isoformat() if closes else "?"))


@proposals_group.command("execute")
@click.argument("proposal_id", type=int)
@click.pass_obj
def execute(ctx: CliContext, proposal_id: int) -> None:
    """Carry out a proposal that passed (once)."""
    try:
        with session_scope(ctx.sessions) as session:
            custody.execute(
                session,
                proposal_id,
                actor=CLI_ACTOR,
                at=now(),
                bylaws=ctx.bylaws,
                our_base=our_base(ctx),
            )
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(_("Proposal %(id)s carried out.", id=proposal_id))


@click.group("elections")
def elections_group() -> None:
    """Call board elections and name their candidates."""


@elections_group.command("call")
@click.option("--class", "member_class", required=True, help="The class whose seats are elected.")
@click.option("--seat", "seats", type=int, multiple=True, required=True, help="A seat number.")
@click.option("--opens", required=True, help="When voting opens (ISO time with zone).")
@click.option("--closes", required=True, help="When voting closes (ISO time with zone).")
@click.option("--term-months", type=int, default=24, show_default=True, help="Term of office.")
@click.pass_obj
def call(
    ctx: CliContext,
    member_class: str,
    seats: tuple[int, ...],
    opens: str,
    closes: str,
    term_months: int,
) -> None:
    """Call an election of some seats of one class."""
    try:
        with session_scope(ctx.sessions) as session:
            election = election_service.call_election(
                session,
                ctx.bylaws,
                member_class=member_class,
                seat_numbers=list(seats),
                opens_at=_moment(opens, "--opens"),
                closes_at=_moment(closes, "--closes"),
                term_months=term_months,
                actor=CLI_ACTOR,
                at=now(),
            )
            election_id = election.id
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(_("Election %(id)s called.", id=election_id))


@elections_group.command("candidate")
@click.argument("election_id", type=int)
@click.argument("email")
@click.option("--statement", default="", help="The candidate's statement.")
@click.pass_obj
def candidate(ctx: CliContext, election_id: int, email: str, statement: str) -> None:
    """Name the member with EMAIL as a candidate (before voting opens)."""
    try:
        with session_scope(ctx.sessions) as session:
            election_service.add_candidate(
                session,
                election_id,
                member=member_by_email(session, email),
                statement=statement,
                actor=CLI_ACTOR,
                at=now(),
            )
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(_("%(email)s is a candidate.", email=email))


@elections_group.command("list")
@click.pass_obj
def list_elections(ctx: CliContext) -> None:
    """Every election, closing (and seating the winners of) those whose window has passed."""
    with session_scope(ctx.sessions) as session:
        at = now()
        for election in election_service.list_elections(session):
            election_service.settle(session, ctx.bylaws, election, at)
            winners = ", ".join(str(w) for w in election.result.get("winners", []))  # type: ignore[union-attr]
            click.echo(
                f"{election.id}\t{election.member_class}\t{election.seat_numbers}\t"
                f"{election.status}\t{election.closes_at.isoformat()}\t{winners}"
            )


def _money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


@click.group("ledger")
def ledger_group() -> None:
    """Record licence payments and see how they were shared."""


@ledger_group.command("pay")
@click.argument("proposal_id", type=int)
@click.argument("amount")
@click.option("--note", default="", help="Where the money came from.")
@click.pass_obj
def pay(ctx: CliContext, proposal_id: int, amount: str, note: str) -> None:
    """Record AMOUNT (like 1250.00) received under licence PROPOSAL_ID."""
    try:
        cents = ledger.cents(amount)
        with session_scope(ctx.sessions) as session:
            payment = ledger.record_payment(
                session,
                ctx.bylaws,
                proposal_id,
                amount_cents=cents,
                currency=ctx.settings.currency,
                note=note,
                actor=CLI_ACTOR,
                at=now(),
            )
            commons, total = payment.commons_cents, payment.amount_cents
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(
        _(
            "Recorded %(total)s: %(contributors)s to contributors, %(commons)s to the commons.",
            total=_money(total),
            contributors=_money(total - commons),
            commons=_money(commons),
        )
    )


COMMANDS = [proposals_group, elections_group, ledger_group]
