"""`cltd members` and `cltd seats`: admit members and seat the board."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from sqlalchemy import select

from cltd.adapters.clock import now
from cltd.cli.context import CliContext
from cltd.cli.errors import CliError, from_service_error
from cltd.cli.text import _
from cltd.db import session_scope
from cltd.models import Member
from cltd.services import members as member_service
from cltd.services import seats as seat_service
from cltd.services.errors import ServiceError

CLI_ACTOR = "steward:cli"


@click.group("members")
def members_group() -> None:
    """Admit and list the trust's members."""


@members_group.command("add")
@click.option("--email", required=True, help="The member's email address (their sign-in).")
@click.option("--name", "display_name", required=True, help="The name shown to others.")
@click.option("--class", "member_class", required=True, help="Their member class from the bylaws.")
@click.option("--steward", is_flag=True, help="Make them a steward of this trust.")
@click.option("--locale", help="Their language (en, es, fr).")
@click.password_option(
    "--password",
    prompt=True,
    confirmation_prompt=True,
    help="Their first password (asked for if not given; at least 12 characters).",
)
@click.pass_obj
def add(
    ctx: CliContext,
    email: str,
    display_name: str,
    member_class: str,
    steward: bool,
    locale: str | None,
    password: str,
) -> None:
    """Admit a member to one of the three classes."""
    try:
        with session_scope(ctx.sessions) as session:
            member = member_service.add_member(
                session,
                ctx.bylaws,
                email=email,
                display_name=display_name,
                member_class=member_class,
                password=password,
                actor=CLI_ACTOR,
                at=now(),
                is_steward=steward,
                locale=locale,
            )
            member_id = member.id
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(
        _(
            "Admitted %(name)s <%(email)s> as member %(id)s of class %(class_)s.",
            name=display_name,
            email=email,
            id=member_id,
            class_=member_class,
        )
    )


@members_group.command("list")
@click.pass_obj
def list_members(ctx: CliContext) -> None:
    """List every member with their class and roles."""
    with session_scope(ctx.sessions) as session:
        at = now()
        for member in member_service.list_members(session):
            roles = ",".join(sorted(member_service.roles_of(session, member, at)))
            click.echo(
                f"{member.id:>5}  {member.member_class:<12} {roles:<22} "
                f"{member.email}  {member.display_name}"
            )


@click.group("seats")
def seats_group() -> None:
    """Seat members on the board."""


@seats_group.command("assign")
@click.argument("email")
@click.argument("member_class")
@click.argument("number", type=int)
@click.option(
    "--until", "until", type=click.DateTime(["%Y-%m-%d"]), help="Last day of the term (UTC)."
)
@click.pass_obj
def assign(
    ctx: CliContext, email: str, member_class: str, number: int, until: datetime | None
) -> None:
    """Give seat NUMBER of MEMBER_CLASS to the member with EMAIL (for a term, with --until)."""
    try:
        with session_scope(ctx.sessions) as session:
            member = session.scalar(
                select(Member).where(Member.email == member_service.normalise_email(email))
            )
            if member is None:
                raise CliError(_("No member has the email address %(email)s.", email=email))
            seat_service.assign_seat(
                session,
                ctx.bylaws,
                member=member,
                member_class=member_class,
                number=number,
                actor=CLI_ACTOR,
                at=now(),
                term_end=until.replace(tzinfo=UTC) + timedelta(days=1) if until else None,
            )
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(
        _(
            "Seat %(number)s of %(class_)s is now held by %(email)s.",
            number=number,
            class_=member_class,
            email=email,
        )
    )


@seats_group.command("list")
@click.pass_obj
def list_seats(ctx: CliContext) -> None:
    """Every seat the bylaws give, its holder and term (vacant seats too)."""
    at = now()
    with session_scope(ctx.sessions) as session:
        for seat in seat_service.board(session, ctx.bylaws):
            held = seat.holder_id is not None and seat.held_by_at(seat.holder_id, at)
            holder = seat.holder.email if held and seat.holder else _("vacant")
            # The term ends at the start of term_end: its last day is the one before.
            last_day = seat.term_end - timedelta(microseconds=1) if seat.term_end else None
            until = last_day.date().isoformat() if held and last_day else ""
            click.echo(f"{seat.member_class}\t{seat.number}\t{holder}\t{until}")


COMMANDS = [members_group, seats_group]
