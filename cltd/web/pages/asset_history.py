"""An asset's history, for every member: what it is, who holds it, and each decision and
event that touched it, so anyone can see custody move only by a decision of the board."""

from __future__ import annotations

import json

from flask import abort, render_template

from cltd.models import Asset
from cltd.services import governance
from cltd.web.auth import signin_required
from cltd.web.i18n import pick_language
from cltd.web.pages import bp
from cltd.web.pages.board import kind_names, status_names
from cltd.web.state import db


@bp.get("/assets/<int:asset_id>/history")
@signin_required
def asset_history(asset_id: int) -> str:
    asset = db().get(Asset, asset_id)
    if asset is None:
        abort(404)
    proposals, entries = governance.asset_history(db(), asset.id)
    return render_template(
        "assets/history.html",
        asset=asset,
        title=pick_language(asset.title)[0],
        proposals=proposals,
        entries=[(entry, json.loads(entry.details)) for entry in entries],
        kind_names=kind_names(),
        status_names=status_names(),
    )
