"""The `cltd` command: the same services as the web, each inside one transaction."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from cltd import __version__
from cltd.cli.context import CliContext
from cltd.cli.errors import EXIT_BAD_INPUT, EXIT_UNAVAILABLE
from cltd.cli.text import _


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="cltd")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CLTD_DATA_DIR",
    help="The trust's data directory (default: ./cltd-data, or $CLTD_DATA_DIR).",
)
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None) -> None:
    """CLTD: a community data trust.

    Members decide per purpose what their data may be used for, nothing leaves the commons
    without a vote of all three classes of the board, and the trust publishes what it holds.
    Start with `cltd demo`, or `cltd init` then `cltd serve` for a real trust.
    """
    ctx.obj = CliContext(data_dir)


def _register() -> None:
    from cltd.cli import (
        audit,
        board,
        bylaws,
        clients,
        data,
        db,
        federation,
        members,
        peers,
        transfers,
        trust,
    )

    for module in (
        trust,
        db,
        bylaws,
        members,
        clients,
        data,
        audit,
        board,
        peers,
        transfers,
        federation,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)
    members.members_group.add_command(data.ERASE)


_register()


def main(argv: list[str] | None = None) -> int:
    """Entry point: usage mistakes are one line and exit 2, like every other bad input."""
    try:
        result = cli.main(args=argv, prog_name="cltd", standalone_mode=False)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        label, what = _("error"), _("cannot reach the database")
        click.echo(f"cltd: {label}: {what}: {reason}", err=True)
        return EXIT_UNAVAILABLE
    except click.exceptions.Abort:
        click.echo(_("Stopped."), err=True)
        return 1
    except click.ClickException as error:
        if isinstance(error, click.UsageError):
            command = error.ctx.command_path if error.ctx else "cltd"
            hint = " (" + _("see %(command)s --help", command=command) + ")"
            label = _("error")
            click.echo(f"cltd: {label}: {error.format_message()}{hint}", err=True)
            return EXIT_BAD_INPUT
        error.show()
        return error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    # Without standalone mode, click hands back ctx.exit(N) as the return value.
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
