"""The trust's front page: what it holds, and who you are in it."""

from __future__ import annotations

from flask import render_template

from cltd.services.assets import held_assets
from cltd.web.auth import current_member, current_roles
from cltd.web.i18n import current_language, pick_language
from cltd.web.pages import bp
from cltd.web.state import db, state


@bp.get("/")
def home() -> str:
    assets = [
        {
            "asset": asset,
            "title": pick_language(asset.title),
            "description": pick_language(asset.description),
        }
        for asset in held_assets(db())
    ]
    bylaws = state().bylaws
    return render_template(
        "home.html",
        assets=assets,
        member=current_member(),
        roles=current_roles(),
        classes=bylaws.classes,
        class_names=", ".join(c.name(current_language()) for c in bylaws.classes),
    )
