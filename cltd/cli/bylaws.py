"""`cltd bylaws`: check a bylaws file before anyone adopts or proposes it."""

from __future__ import annotations

from pathlib import Path

import click

from cltd.cli.errors import CliError
from cltd.cli.text import _, governance_problem
from cltd.rules.bylaws import BylawsError, load_bylaws


@click.group("bylaws")
def bylaws_group() -> None:
    """Read and check bylaws files."""


@bylaws_group.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def check(file: Path) -> None:
    """Validate bylaws FILE and the purpose taxonomy it names; exit 2 if anything is wrong."""
    try:
        bylaws = load_bylaws(file)
    except BylawsError as error:
        raise CliError(governance_problem(error)) from None
    classes = ", ".join(f"{c.key} ({c.seats})" for c in bylaws.classes)
    click.echo(_("%(file)s: valid bylaws version %(version)s", file=file, version=bylaws.version))
    click.echo(_("  classes and seats: %(classes)s", classes=classes))
    click.echo(_("  purposes: %(count)s", count=len(bylaws.taxonomy.purposes)))
    click.echo(_("  digest: %(digest)s", digest=bylaws.digest))


COMMANDS = [bylaws_group]
