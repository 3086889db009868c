"""Federation pages: a steward pins peers (after comparing the key's fingerprint) and asks for
syncs; members search the federated catalog; everyone signed in sees the network: the trusts
this one pins and, for discovery only, the trusts those say they know."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from cltd.adapters.clock import now
from cltd.config import SUPPORTED_LOCALES
from cltd.rules.codes import MESSAGES, Code
from cltd.rules.purposes import Access
from cltd.rules.roles import Permission
from cltd.services import members, peers
from cltd.services.errors import ServiceError
from cltd.web.auth import current_member, permission_required, signin_required
from cltd.web.federated import fetcher, search_everywhere
from cltd.web.forms import PeerForm, PlainForm
from cltd.web.i18n import LANGUAGE_NAMES, current_language
from cltd.web.pages import bp
from cltd.web.problems import service_error_detail
from cltd.web.state import db, state


def _render_peers(form: PeerForm, intro: peers.Introduction | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "steward/peers.html",
        peers=peers.list_peers(db()),
        fingerprint=peers.fingerprint,
        form=form,
        intro=intro,
        plain_form=PlainForm(),
    ), status


@bp.get("/steward/peers")
@permission_required(Permission.PeersManage)
def steward_peers():  # type: ignore[no-untyped-def]
    return _render_peers(PeerForm())


@bp.post("/steward/peers")
@permission_required(Permission.PeersManage)
def add_peer():  # type: ignore[no-untyped-def]
    """First press: fetch and show the fingerprint. Second press (with the key shown): pin."""
    form = PeerForm()
    if not form.validate_on_submit():
        return _render_peers(form, status=400)
    try:
        intro = peers.introduce(fetcher(), form.url.data or "")
    except ServiceError as error:
        form.url.errors = [service_error_detail(error)]
        return _render_peers(form, status=error.status)
    except peers.PeerRefused as refused:
        form.url.errors = [refused.detail]
        return _render_peers(form, status=502)
    if not form.key.data:
        form.key.data = intro.key_multibase
        return _render_peers(form, intro)
    if form.key.data != intro.key_multibase:
        form.url.errors = [gettext(MESSAGES[Code.PEER_KEY_MISMATCH])]
        return _render_peers(form, status=409)
    try:
        peers.pin(db(), intro, actor=members.actor_of(current_member()), at=now())
    except ServiceError as error:
        form.url.errors = [service_error_detail(error)]
        return _render_peers(form, status=error.status)
    flash(gettext("%(name)s is pinned. Its catalog arrives with the next sync.", name=intro.name))
    return redirect(url_for("pages.steward_peers"))


@bp.post("/steward/peers/<int:peer_id>/sync")
@permission_required(Permission.PeersManage)
def sync_peer(peer_id: int) -> Response:
    try:
        peer = peers.request_sync(db(), peer_id, actor=members.actor_of(current_member()), at=now())
    except ServiceError as error:
        flash(service_error_detail(error), "error")
    else:
        flash(gettext("%(name)s will be synced by the worker within a minute.", name=peer.name))
    return redirect(url_for("pages.steward_peers"))


@bp.get("/catalog")
@signin_required
def federated_catalog() -> str:
    query = request.args.get("q", "").strip()
    language = request.args.get("language", "")
    purpose = request.args.get("purpose", "")
    taxonomy = state().bylaws.taxonomy
    return render_template(
        "federation/catalog.html",
        results=search_everywhere(
            keyword=query or None,
            language=language if language in SUPPORTED_LOCALES else None,
            purpose=purpose if purpose in taxonomy.purposes else None,
        ),
        query=query,
        language=language,
        purpose=purpose,
        languages=LANGUAGE_NAMES,
        purposes=[
            (p.key, p.name(current_language()))
            for p in taxonomy.purposes.values()
            if p.access != Access.PROHIBITED
        ],
    )


@bp.get("/network")
@signin_required
def network() -> str:
    pinned = peers.list_peers(db())
    pinned_origins = {p.origin for p in pinned}
    own = state().settings.base_url.rstrip("/")
    known: dict[str, list[str]] = {}
    for peer in pinned:
        for description_url in peer.description.get("knows", []) or []:  # type: ignore[union-attr]
            if not isinstance(description_url, str):
                continue
            origin = description_url.split("/federation/")[0]
            if origin not in pinned_origins and origin != own:
                known.setdefault(origin, []).append(peer.name)
    return render_template("federation/network.html", pinned=pinned, known=known)
