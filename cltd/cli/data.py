"""`cltd assets`, `cltd records`, `cltd keys`, `cltd worker` and `cltd members erase`."""

from __future__ import annotations

import csv
import json
import os
import socket
import time
import tomllib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from cltd.adapters import rotation
from cltd.adapters.clock import now
from cltd.adapters.keys import load_signing_key
from cltd.adapters.vault import KeyRing, VaultError
from cltd.adapters.webhooks import post_signed
from cltd.cli.context import CliContext
from cltd.cli.errors import CliError, from_service_error
from cltd.cli.progress import progress
from cltd.cli.text import _
from cltd.config import SIGNING_PUBLIC_KEY_FILE
from cltd.db import session_scope
from cltd.models import Asset, Member
from cltd.rules.codes import MESSAGES
from cltd.services import assets as asset_service
from cltd.services import (
    audit,
    datakeys,
    erasure,
    offers,
    outbox,
    peers,
    records,
    transfer_exchange,
)
from cltd.services.catalog import CONTEXT_PATH, DATA_INTEGRITY
from cltd.services.errors import ServiceError
from cltd.services.members import normalise_email

CLI_ACTOR = "steward:cli"


def _ring(ctx: CliContext) -> KeyRing:
    return KeyRing(ctx.settings.data_dir / "keys")


@click.group("assets")
def assets_group() -> None:
    """Create and list the trust's data assets."""


@assets_group.command("create")
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def create(ctx: CliContext, spec: Path) -> None:
    """Create an asset from a TOML or JSON file (slug, title, fields, policy; see README)."""
    try:
        text = spec.read_text(encoding="utf-8")
        body = json.loads(text) if spec.suffix == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise CliError(f"{spec}: {error}") from None
    if not isinstance(body, dict):
        raise CliError(_("%(file)s: not an asset description (see the README).", file=spec))
    policy = body.get("policy", {})
    try:
        with session_scope(ctx.sessions) as session:
            asset = asset_service.create_asset(
                session,
                ctx.bylaws,
                slug=str(body.get("slug", "")),
                title=body.get("title", {}),
                description=body.get("description", {}),
                keywords=body.get("keywords", []),
                fields=body.get("fields", []),
                contributing_classes=body.get("contributing_classes"),
                permitted=policy.get("permitted", {}),
                prohibited=policy.get("prohibited", []),
                duties=policy.get("duties", []),
                actor=CLI_ACTOR,
                at=now(),
            )
            asset_id, slug = asset.id, asset.slug
    except ServiceError as error:
        raise from_service_error(error) from None
    except (AttributeError, TypeError):
        raise CliError(
            _("%(file)s: not an asset description (see the README).", file=spec)
        ) from None
    click.echo(
        _("Created asset %(id)s (%(slug)s), held under the asset lock.", id=asset_id, slug=slug)
    )


@assets_group.command("list")
@click.pass_obj
def list_assets(ctx: CliContext) -> None:
    """List the assets the trust holds."""
    with session_scope(ctx.sessions) as session:
        for asset in asset_service.held_assets(session):
            title = next(iter(asset.title.values()), "")
            click.echo(
                f"{asset.id:>5}  {asset.slug:<32} {'locked' if asset.locked else '':<7} {title}"
            )


def _rows(path: Path) -> Iterator[records.ImportRow]:
    """Rows of a CSV (header: contributor, then field names) or JSON Lines file."""
    with path.open(encoding="utf-8", newline="") as handle:
        if path.suffix in (".jsonl", ".ndjson"):
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    item: Any = json.loads(line)
                except ValueError as error:
                    raise CliError(
                        _(
                            "%(file)s, line %(line)s: not JSON (%(error)s)",
                            file=path,
                            line=line_no,
                            error=error,
                        )
                    ) from None
                if not isinstance(item, dict) or not isinstance(item.get("values"), dict):
                    raise CliError(
                        _(
                            '%(file)s, line %(line)s: expected {"contributor": …, "values": {…}}',
                            file=path,
                            line=line_no,
                        )
                    )
                yield records.ImportRow(line_no, str(item.get("contributor", "")), item["values"])
            return
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "contributor" not in reader.fieldnames:
            raise CliError(
                _(
                    "%(file)s: the first line must name the columns, starting with contributor",
                    file=path,
                )
            )
        for row in reader:
            contributor = row.pop("contributor") or ""
            if None in row:
                raise CliError(
                    _(
                        "%(file)s, line %(line)s: more values than columns",
                        file=path,
                        line=reader.line_num,
                    )
                )
            yield records.ImportRow(reader.line_num, contributor, row)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _line in handle)


@click.group("records")
def records_group() -> None:
    """Import members' records in bulk."""


@records_group.command("import")
@click.argument("asset_slug")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_obj
def import_records(ctx: CliContext, asset_slug: str, file: Path) -> None:
    """Import FILE (.csv or .jsonl) into ASSET_SLUG: all rows or, at the first bad row, none."""
    total = _count_lines(file)
    try:
        with session_scope(ctx.sessions) as session:
            asset = session.scalar(select(Asset).where(Asset.slug == asset_slug))
            if asset is None:
                raise CliError(_("There is no asset %(slug)s.", slug=asset_slug))
            with progress(total, _("Importing")) as bar:

                def counted() -> Iterator[records.ImportRow]:
                    for row in _rows(file):
                        bar.update(1)
                        yield row

                count = records.import_records(
                    session, _ring(ctx), asset=asset, rows=counted(), actor=CLI_ACTOR, at=now()
                )
    except records.ImportProblem as problem:
        detail = _(MESSAGES[problem.error.code], **problem.error.params)
        raise CliError(
            _(
                "%(file)s, line %(line)s: %(detail)s (nothing was imported)",
                file=file,
                line=problem.line,
                detail=detail,
            )
        ) from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise CliError(f"{file}: {error}") from None
    except VaultError as error:
        raise CliError(f"{file}: {error}") from None
    click.echo(_("Imported %(count)s records into %(slug)s.", count=count, slug=asset_slug))


@click.group("keys")
def keys_group() -> None:
    """Manage the trust's encryption keys."""


@keys_group.command("rotate")
@click.pass_obj
def rotate(ctx: CliContext) -> None:
    """Re-wrap every member's data key under a new key-encryption key (records untouched)."""
    ring = _ring(ctx)
    try:
        with (
            session_scope(ctx.sessions) as session,
            progress(datakeys.count_keys(session), _("Re-wrapping")) as bar,
        ):
            kek_id, count = datakeys.rotate_kek(
                session, ring, actor=CLI_ACTOR, at=now(), progress=bar.update
            )
    except VaultError as error:
        raise CliError(str(error)) from None
    click.echo(
        _("Key-encryption key %(kek)s now wraps %(count)s data keys.", kek=kek_id, count=count)
    )


@keys_group.command("rotate-signing")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def rotate_signing(ctx: CliContext, yes: bool) -> None:
    """Replace the trust's signing key; peers follow through a statement the old key signs."""
    settings = ctx.settings
    if not settings.base_url:
        raise CliError(_("Set base_url (the trust's public address) before rotating its key."))
    if not yes:
        click.confirm(_("Replace the trust's signing key?"), abort=True)
    origin = settings.base_url.rstrip("/")
    did = "did:web:" + origin.split("://", 1)[1].replace(":", "%3A")
    at = now()
    statement = rotation.rotate(
        settings.data_dir,
        settings.signing_key_path,
        settings.data_dir / SIGNING_PUBLIC_KEY_FILE,
        statement={
            "@context": [origin + CONTEXT_PATH, DATA_INTEGRITY],
            "type": "KeyRotation",
            "did": did,
            "rotatedAt": at.isoformat(),
        },
        did=did,
        at=at,
    )
    with session_scope(ctx.sessions) as session:
        audit.record(
            session,
            actor=CLI_ACTOR,
            action=audit.AuditAction.SIGNING_KEY_ROTATED,
            subject="trust",
            at=at,
            details={"previous": statement["previousKey"], "next": statement["nextKey"]},
        )
    click.echo(_("The trust now signs with %(key)s.", key=statement["nextKey"]))


@click.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now and stop (for cron or tests).")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between rounds.")
@click.option(
    "--sync-every",
    default=15.0,
    show_default=True,
    help="Minutes between syncs of each peer trust's catalog.",
)
@click.pass_obj
def worker(ctx: CliContext, once: bool, interval: float, sync_every: float) -> None:
    """Deliver queued work (revocation notices, transfer messages) with retries and sync peer
    trusts on a schedule; run any number of these (a peer is synced by one worker at a time)."""
    key = load_signing_key(ctx.settings.signing_key_path)
    key_id = f"trust:{ctx.settings.trust_name}"
    owner = f"worker:{socket.gethostname()}:{os.getpid()}"
    fetcher = peers.fetcher_for(ctx.settings)
    exchange = transfer_exchange.Exchange.for_trust(
        ctx.settings, ctx.sessions, ctx.bylaws, fetcher=fetcher
    )

    def deliver(job: outbox.Claimed) -> str | None:
        if job.kind in transfer_exchange.KINDS:
            return exchange.deliver(job)
        return post_signed(job.target, job.payload, key, key_id)

    while True:
        with session_scope(ctx.sessions) as session:
            offers.expire_due(session, now())
        done = outbox.run_once(ctx.sessions, deliver, now)
        if done:
            click.echo(_("Delivered or retried %(count)s jobs.", count=done))
        for result in peers.sync_due(
            ctx.sessions, fetcher, owner=owner, clock=now, every=timedelta(minutes=sync_every)
        ):
            if result.refused is not None:
                click.echo(_("A peer sync failed: %(reason)s", reason=result.refused.detail))
        if once:
            return
        time.sleep(interval)


@click.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def erase(ctx: CliContext, email: str, yes: bool) -> None:
    """Erase a member: destroy their data key, delete their records, keep the audit trail."""
    if not yes:
        click.confirm(
            _("Erase %(email)s and every record they contributed, for good?", email=email),
            abort=True,
        )
    with session_scope(ctx.sessions) as session:
        member = session.scalar(select(Member).where(Member.email == normalise_email(email)))
        if member is None:
            raise CliError(_("No member has the email address %(email)s.", email=email))
        count = erasure.erase_member(
            session, ctx.bylaws.taxonomy, member, actor=CLI_ACTOR, at=now()
        )
    click.echo(_("Erased %(email)s: %(count)s records shredded.", email=email, count=count))


COMMANDS = [assets_group, records_group, keys_group, worker]
ERASE = erase
