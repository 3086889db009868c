"""One line on stderr and exit 2 for anything a steward typed or pointed at that is wrong."""

from __future__ import annotations

from typing import IO

import click

from cltd.cli.text import _
from cltd.rules.codes import MESSAGES
from cltd.services.errors import ServiceError

EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 1  # the database or another service this command needs does not answer


class CliError(click.ClickException):
    exit_code = EXIT_BAD_INPUT

    def show(self, file: IO[str] | None = None) -> None:
        label = _("error")
        click.echo(f"cltd: {label}: {self.format_message()}", err=True)


def from_service_error(error: ServiceError) -> CliError:
    message = _(MESSAGES[error.code], **error.params)
    field = f" ({error.field})" if error.field else ""
    return CliError(message + field)
