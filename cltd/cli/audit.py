"""`cltd audit verify`: recompute the hash chain and name the first entry that does not hold."""

from __future__ import annotations

import click

from cltd.cli.context import CliContext
from cltd.cli.progress import progress
from cltd.cli.text import _
from cltd.db import session_scope
from cltd.rules.codes import MESSAGES
from cltd.services.audit import count_entries, verify_chain

EXIT_TAMPERED = 1


@click.group("audit")
def audit_group() -> None:
    """Check the trust's tamper-evident audit log."""


@audit_group.command("verify")
@click.pass_obj
def verify(ctx: CliContext) -> None:
    """Recompute every entry's hash; exit 1 naming the first entry that was altered."""
    with session_scope(ctx.sessions) as session:
        total = count_entries(session)
        with progress(total, _("Checking audit entries")) as bar:
            report = verify_chain(session, progress=bar.update)
    if report.problem is None:
        click.echo(
            _(
                "The audit log holds: %(count)s entries, every hash and link checks out.",
                count=report.checked,
            )
        )
        return
    click.echo(
        _("The audit log is broken at entry %(seq)s.", seq=report.problem.seq)
        + " "
        + _(MESSAGES[report.problem.code], **report.problem.params),
        err=True,
    )
    click.get_current_context().exit(EXIT_TAMPERED)


COMMANDS = [audit_group]
