"""An asset's history, for every member: what it is, who holds it, and each decision and
event that touched it, so anyone can see custody move only by a decision of the board."""

from __future__ import annotations

import json

from flask import abort, render_template

from cltd.models import Asset
from cltd.services import governance, offers
from cltd.web.auth import signin_required
from cltd.web.i18n import pick_language
from cltd.web.pages import bp
from cltd.web.pages.board import kind_names, status_names
from cltd.web.state import db


def _trusts_named(entries: list[tuple[object, dict[str, object]]]) -> dict[str, str]:
    """The other trust of each transfer the entries mention (a refusal names only the id)."""
    ids = {str(d["transfer"]) for _entry, d in entries if isinstance(d, dict) and "transfer" in d}
    return offers.trusts_of(db(), ids)


@bp.get("/assets/<int:asset_id>/history")
@signin_required
def asset_history(asset_id: int) -> str:
    asset = db().get(Asset, asset_id)
    if asset is None:
        abort(404)
    proposals, entries = governance.asset_history(db(), asset.id)
    details = [(entry, json.loads(entry.details)) for entry in entries]
    return render_template(
        "assets/history.html",
        asset=asset,
        title=pick_language(asset.title)[0],
        proposals=proposals,
        entries=details,
        trusts=_trusts_named(details),
        kind_names=kind_names(),
        status_names=status_names(),
    )
