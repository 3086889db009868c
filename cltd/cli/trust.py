"""`cltd init`, `cltd demo` and `cltd serve`: found a trust, try one, run one."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from cltd.adapters import migrations
from cltd.adapters.clock import now
from cltd.adapters.datadir import DataDirExists, create_data_dir, remove_data_dir
from cltd.adapters.keys import load_signing_key, public_key_fingerprint
from cltd.adapters.vault import KeyRing
from cltd.cli.context import CliContext
from cltd.cli.errors import CliError
from cltd.cli.text import _
from cltd.config import (
    SECRET_KEY_FILE,
    SUPPORTED_LOCALES,
    ConfigError,
    Settings,
    default_database_url,
)
from cltd.db import session_scope
from cltd.services.demo import (
    DEMO_CONSUMER_ID,
    DEMO_CONSUMER_SECRET,
    DEMO_DOMAIN,
    DEMO_NAME,
    DEMO_PASSWORD,
    seed_demo,
)
from cltd.services.trust import record_founding


def _found(
    ctx: CliContext, data_dir: Path, name: str, locale: str, timezone: str, database_url: str | None
) -> None:
    """Lay out and found a trust; if any step fails, nothing of it is left behind."""
    try:
        Settings(
            data_dir=data_dir,
            database_url=database_url or default_database_url(data_dir),
            secret_key="-" * 32,
            trust_name=name,
            default_locale=locale,
            timezone=timezone,
        ).validated()
    except ConfigError as error:
        raise CliError(str(error)) from None
    existed = data_dir.exists()
    try:
        created = create_data_dir(
            data_dir,
            trust_name=name,
            default_locale=locale,
            timezone=timezone,
            database_url=database_url,
        )
    except DataDirExists:
        raise CliError(
            _("%(dir)s already holds a trust; nothing was changed.", dir=data_dir)
        ) from None
    try:
        ctx.data_dir = data_dir
        migrations.upgrade(ctx.engine)
        public_key = load_signing_key(ctx.settings.signing_key_path).public_key()
        with session_scope(ctx.sessions) as session:
            record_founding(
                session,
                trust_name=name,
                bylaws=ctx.founding_bylaws,
                public_key_hex=public_key_fingerprint(public_key),
                at=now(),
            )
    except BaseException:
        ctx.engine.dispose()
        remove_data_dir(data_dir, created, keep_dir=existed)
        raise


@click.command("init")
@click.option("--name", default="Community Data Trust", show_default=True, help="The trust's name.")
@click.option(
    "--locale",
    type=click.Choice(SUPPORTED_LOCALES),
    default="en",
    show_default=True,
    help="Default language of the trust's pages.",
)
@click.option("--timezone", default="UTC", show_default=True, help="Time zone dates are shown in.")
@click.option("--database-url", help="PostgreSQL URL (default: SQLite in the data directory).")
@click.pass_obj
def init(ctx: CliContext, name: str, locale: str, timezone: str, database_url: str | None) -> None:
    """Create a trust: config, secret key, Ed25519 signing keys, bylaws and database."""
    data_dir = (ctx.data_dir or Path("cltd-data")).resolve()
    _found(ctx, data_dir, name, locale, timezone, database_url)
    click.echo(_("Created the trust “%(name)s” in %(dir)s.", name=name, dir=data_dir))
    click.echo(
        _(
            "Next: `cltd --data-dir %(dir)s members add --steward ...`, "
            "then `cltd --data-dir %(dir)s serve`.",
            dir=data_dir,
        )
    )


def _check_schema(ctx: CliContext) -> None:
    current, head = migrations.current_revision(ctx.engine), migrations.head_revision()
    if current != head:
        raise CliError(
            _(
                "The database is at migration %(current)s, this CLTD needs %(head)s: "
                "run `cltd db upgrade`.",
                current=current or _("none"),
                head=head,
            )
        )


def _serve(ctx: CliContext, host: str, port: int, workers: int, dev: bool) -> None:
    _check_schema(ctx)
    logging.basicConfig(
        level=ctx.settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from cltd.web import create_app

    if dev:
        create_app(ctx.settings).run(host=host, port=port, debug=False)
        return
    from cltd.cli.gunicorn import serve_with_gunicorn

    serve_with_gunicorn(ctx.settings, host=host, port=port, workers=workers)


_HOST = click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
_WORKERS = click.option(
    "--workers", default=2, show_default=True, help="gunicorn worker processes."
)
_DEV = click.option(
    "--dev", is_flag=True, help="Use Flask's development server instead of gunicorn."
)


@click.command("serve")
@_HOST
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@_WORKERS
@_DEV
@click.pass_obj
def serve(ctx: CliContext, host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the trust over HTTP with gunicorn (Flask's own server only with --dev)."""
    _serve(ctx, host, port, workers, dev)


@click.command("demo")
@_HOST
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@_WORKERS
@_DEV
@click.option(
    "--no-serve", is_flag=True, help="Set the demo trust up, print its sign-ins, and stop."
)
@click.option(
    "--name",
    default=DEMO_NAME,
    show_default=True,
    help="Another name makes a second demo trust: its own people, no assets of its own yet "
    "(a trust to move an asset to).",
)
@click.pass_obj
def demo(
    ctx: CliContext, host: str, port: int, workers: int, dev: bool, no_serve: bool, name: str
) -> None:
    """Set up (or reuse) a demo trust on SQLite in ./cltd-demo and serve it."""
    data_dir = (ctx.data_dir or Path("cltd-demo")).resolve()
    if (data_dir / SECRET_KEY_FILE).exists():
        ctx.data_dir = data_dir
        migrations.upgrade(ctx.engine)
        name = ctx.settings.trust_name
    else:
        _found(ctx, data_dir, name, "en", "Europe/London", None)
    first = name == DEMO_NAME
    domain = DEMO_DOMAIN if first else f"{_first_word(name)}.{DEMO_DOMAIN}"
    with session_scope(ctx.sessions) as session:
        sign_ins = seed_demo(
            session,
            ctx.bylaws,
            KeyRing(ctx.settings.data_dir / "keys"),
            now(),
            domain=domain,
            with_assets=first,
        )
    click.echo(_("Demo trust in %(dir)s", dir=data_dir))
    click.echo(
        _(
            "Open http://%(host)s:%(port)s/ and sign in as any of these (password: %(password)s):",
            host=host,
            port=port,
            password=DEMO_PASSWORD,
        )
    )
    for sign_in in sign_ins:
        click.echo(f"  {sign_in.email:<34} {sign_in.description}")
    if first:
        click.echo(
            _(
                "A data consumer (client credentials): client_id %(id)s, secret %(secret)s",
                id=DEMO_CONSUMER_ID,
                secret=DEMO_CONSUMER_SECRET,
            )
        )
    if not no_serve:
        _serve(ctx, host, port, workers, dev)


def _first_word(name: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in name.lower()).split()
    return words[0] if words else "second"


COMMANDS = [init, demo, serve]
