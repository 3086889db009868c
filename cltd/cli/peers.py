"""`cltd peers`: pin a peer trust's key, list peers with their status, sync their catalogs."""

from __future__ import annotations

import os
import socket
import sys

import click

from cltd.adapters.clock import now
from cltd.cli.context import CliContext
from cltd.cli.errors import CliError, from_service_error
from cltd.cli.text import _
from cltd.db import session_scope
from cltd.rules.codes import MESSAGES, Code
from cltd.services import peers
from cltd.services.errors import ServiceError

CLI_ACTOR = "steward:cli"


def fetcher(ctx: CliContext):  # type: ignore[no-untyped-def]
    return peers.fetcher_for(ctx.settings)


@click.group("peers")
def peers_group() -> None:
    """Pin peer trusts and sync their signed catalogs."""


@peers_group.command("add")
@click.argument("url")
@click.option("--key", help="The key you expect (publicKeyMultibase); pinned without asking.")
@click.option("--yes", is_flag=True, help="Pin the key the peer shows without asking.")
@click.pass_obj
def add(ctx: CliContext, url: str, key: str | None, yes: bool) -> None:
    """Fetch the peer at URL, show its key's fingerprint, and pin it."""
    try:
        intro = peers.introduce(fetcher(ctx), url)
    except ServiceError as error:
        raise from_service_error(error) from None
    except peers.PeerRefused as refused:
        raise CliError(_("%(url)s: %(reason)s", url=url, reason=refused.detail)) from None
    click.echo(_("Peer: %(name)s (%(did)s)", name=intro.name, did=intro.did))
    click.echo(_("Key fingerprint: %(fingerprint)s", fingerprint=intro.fingerprint))
    if key is not None and key != intro.key_multibase:
        raise CliError(_(MESSAGES[Code.PEER_KEY_MISMATCH]))
    if key is None and not yes:
        if not sys.stdin.isatty():
            raise CliError(
                _("Compare the fingerprint with the peer's steward, then rerun with --yes.")
            )
        click.confirm(_("Pin this key?"), abort=True)
    try:
        with session_scope(ctx.sessions) as session:
            peers.pin(session, intro, actor=CLI_ACTOR, at=now())
    except ServiceError as error:
        raise from_service_error(error) from None
    click.echo(_("Pinned %(name)s. Run `cltd peers sync` to fetch its catalog.", name=intro.name))


@peers_group.command("list")
@click.pass_obj
def list_(ctx: CliContext) -> None:
    """Each peer: last good sync, cursor, datasets held, and the last error in plain words."""
    with session_scope(ctx.sessions) as session:
        for peer in peers.list_peers(session):
            good = peer.last_good_at.isoformat(timespec="seconds") if peer.last_good_at else "-"
            problem = peer.last_error_detail or _("no error")
            click.echo(
                f"{peer.name}\t{peer.origin}\t"
                + _(
                    "last good sync %(good)s, cursor %(cursor)s, %(count)s datasets; %(problem)s",
                    good=good,
                    cursor=peer.cursor,
                    count=peer.datasets_held,
                    problem=problem,
                )
            )


@peers_group.command("sync")
@click.argument("peer", required=False)
@click.pass_obj
def sync(ctx: CliContext, peer: str | None) -> None:
    """Pull what changed since the last sync, from PEER (a name or an address) or from all."""
    with session_scope(ctx.sessions) as session:
        try:
            targets = [peers.find_peer(session, peer)] if peer else peers.list_peers(session)
        except ServiceError as error:
            raise from_service_error(error) from None
        chosen = [(p.id, p.name) for p in targets]
    owner = f"cli:{socket.gethostname()}:{os.getpid()}"
    failed = 0
    for peer_id, name in chosen:
        if not peers.claim(ctx.sessions, peer_id, owner, now()):
            click.echo(_("%(name)s: another worker is syncing it now.", name=name), err=True)
            failed += 1
            continue
        try:
            show = sys.stderr.isatty()

            def report(pages: int, datasets: int, name: str = name, show: bool = show) -> None:
                if show:
                    line = _(
                        "%(name)s: page %(pages)s, %(datasets)s datasets",
                        name=name,
                        pages=pages,
                        datasets=datasets,
                    )
                    click.echo("\r" + line, nl=False, err=True)

            result = peers.sync(ctx.sessions, fetcher(ctx), peer_id, clock=now, progress=report)
        finally:
            peers.release(ctx.sessions, peer_id, owner)
        if show:
            click.echo("", err=True)
        if result.refused is not None:
            failed += 1
            click.echo(
                _(
                    "%(name)s: %(reason)s (kept the last good state)",
                    name=name,
                    reason=result.refused.detail,
                ),
                err=True,
            )
        else:
            click.echo(
                _(
                    "%(name)s: %(pages)s pages, %(datasets)s datasets updated.",
                    name=name,
                    pages=result.pages,
                    datasets=result.applied,
                )
            )
    if failed:
        click.get_current_context().exit(1)


COMMANDS = [peers_group]
