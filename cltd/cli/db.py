"""`cltd db`: bring the database schema up to date."""

from __future__ import annotations

import click

from cltd.adapters import migrations
from cltd.cli.context import CliContext
from cltd.cli.text import _


@click.group("db")
def db_group() -> None:
    """Manage the database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.pass_obj
def upgrade(ctx: CliContext) -> None:
    """Apply every migration the database does not have yet."""
    before = migrations.current_revision(ctx.engine)
    migrations.upgrade(ctx.engine)
    after = migrations.current_revision(ctx.engine)
    if before == after:
        click.echo(_("The database is up to date (%(revision)s).", revision=after))
    else:
        click.echo(
            _(
                "Upgraded the database from %(before)s to %(after)s.",
                before=before or _("empty"),
                after=after,
            )
        )


@db_group.command("current")
@click.pass_obj
def current(ctx: CliContext) -> None:
    """Show the database's migration and the newest one this version of CLTD has."""
    click.echo(_("database: %(revision)s", revision=migrations.current_revision(ctx.engine)))
    click.echo(_("newest:   %(revision)s", revision=migrations.head_revision()))


@db_group.command("revision", hidden=True)
@click.option("-m", "--message", required=True, help="What the migration changes.")
@click.pass_obj
def revision(ctx: CliContext, message: str) -> None:
    """For developers: write a migration from the difference between models and database."""
    migrations.revision(ctx.engine, message)


COMMANDS = [db_group]
