"""`cltd clients`: register, list and disable the OAuth applications that use the trust."""

from __future__ import annotations

from collections import Counter

import click

from cltd.adapters.clock import now
from cltd.cli.context import CliContext
from cltd.cli.errors import from_service_error
from cltd.cli.text import _
from cltd.db import session_scope
from cltd.services import oauth
from cltd.services.errors import ServiceError

CLI_ACTOR = "steward:cli"


def _words(values: tuple[str, ...]) -> list[str]:
    """Repeated options, each of which may also hold several space-separated values."""
    return [word for value in values for word in value.split()]


@click.group("clients")
def clients_group() -> None:
    """Register and disable the applications (OAuth clients) that use the trust."""


@clients_group.command("add")
@click.option("--name", required=True, help="The application's name, as members see it.")
@click.option("--organisation", required=True, help="Who runs the application.")
@click.option(
    "--type",
    "client_type",
    required=True,
    metavar="public|confidential",
    help="confidential: a server that keeps a secret; public: a browser or phone app.",
)
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    metavar="URI",
    help="An exact redirect address (https://, or http:// on a loopback host). Repeatable.",
)
@click.option(
    "--scope", "scopes", multiple=True, metavar="S", help="A scope it may ask for. Repeatable."
)
@click.option(
    "--grant",
    "grant_types",
    multiple=True,
    required=True,
    metavar="G",
    help="authorization_code, refresh_token or client_credentials. Repeatable.",
)
@click.option("--introspect", is_flag=True, help="A resource server that may check tokens.")
@click.option("--webhook", help="Where to send signed notices when a member withdraws consent.")
@click.pass_obj
def add(
    ctx: CliContext,
    name: str,
    organisation: str,
    client_type: str,
    redirect_uris: tuple[str, ...],
    scopes: tuple[str, ...],
    grant_types: tuple[str, ...],
    introspect: bool,
    webhook: str | None,
) -> None:
    """Register an application and print its client_id (and, once, its secret)."""
    try:
        with session_scope(ctx.sessions) as session:
            registered = oauth.register_client(
                session,
                name=name,
                organisation=organisation,
                client_type=client_type,
                redirect_uris=redirect_uris,
                scopes=_words(scopes),
                grant_types=_words(grant_types),
                may_introspect=introspect,
                webhook_url=webhook,
                actor=CLI_ACTOR,
                at=now(),
            )
            client_id, secret = registered.client.client_id, registered.secret
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(_("Registered %(name)s (%(type)s).", name=name.strip(), type=client_type))
    # The two protocol names stay as they are: the application's configuration uses them.
    click.echo(f"client_id: {client_id}")
    if secret is not None:
        click.echo(f"client_secret: {secret}")
        click.echo(
            _(
                "Copy the secret now: it will not be shown again "
                "(the trust keeps only a fingerprint of it)."
            )
        )


@clients_group.command("list")
@click.pass_obj
def list_clients(ctx: CliContext) -> None:
    """List every registered application with its kind, status and live tokens."""
    with session_scope(ctx.sessions) as session:
        at = now()
        live = Counter(token.client_pk for token in oauth.tokens_of(session, None, at))
        for client in oauth.list_clients(session):
            status = _("disabled") if client.disabled_at is not None else _("active")
            click.echo(
                f"{client.client_id}  {client.client_type:<12} {status:<9} "
                f"{live[client.id]:>4}  {client.name} ({client.organisation})  "
                f"{' '.join(client.scopes)}"
            )


@clients_group.command("disable")
@click.argument("client_id")
@click.pass_obj
def disable(ctx: CliContext, client_id: str) -> None:
    """Switch off the application CLIENT_ID: its tokens stop working at once."""
    try:
        with session_scope(ctx.sessions) as session:
            oauth.disable_client(session, client_id, actor=CLI_ACTOR, at=now())
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(_("Disabled %(client_id)s: its tokens no longer work.", client_id=client_id))


COMMANDS = [clients_group]
