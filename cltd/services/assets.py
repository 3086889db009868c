"""Community data assets: created by a steward, held under the asset lock by default."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.config import SUPPORTED_LOCALES
from cltd.models import Asset, AssetStatus
from cltd.rules.bylaws import Bylaws
from cltd.rules.codes import Code
from cltd.services import audit
from cltd.services.audit import AuditAction
from cltd.services.errors import Conflict, InvalidInput

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")


def _language_map(values: Mapping[str, str]) -> dict[str, str]:
    return {lang: text.strip() for lang, text in values.items() if text and text.strip()}


def create_asset(
    session: Session,
    bylaws: Bylaws,
    *,
    slug: str,
    title: Mapping[str, str],
    description: Mapping[str, str],
    keywords: Sequence[str],
    actor: str,
    at: datetime,
) -> Asset:
    if not _SLUG.match(slug):
        raise InvalidInput(Code.ASSET_SLUG_INVALID, "slug")
    titles = _language_map(title)
    if not titles:
        raise InvalidInput(Code.ASSET_TITLE_REQUIRED, "title")
    for lang in (*titles, *description):
        if lang not in SUPPORTED_LOCALES:
            raise InvalidInput(Code.LOCALE_UNKNOWN, f"title.{lang}")
    if session.scalar(select(Asset.id).where(Asset.slug == slug)) is not None:
        raise Conflict(Code.ASSET_SLUG_TAKEN, "slug")
    asset = Asset(
        slug=slug,
        title=titles,
        description=_language_map(description),
        keywords=[k.strip() for k in keywords if k.strip()],
        locked=bylaws.asset_lock.locked_by_default,
        status=AssetStatus.HELD,
        created_at=at,
        modified_at=at,
    )
    session.add(asset)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ASSET_CREATED,
        subject=f"asset:{asset.id}",
        at=at,
        details={"slug": slug, "locked": asset.locked},
    )
    return asset


def held_assets(session: Session) -> list[Asset]:
    return list(
        session.scalars(select(Asset).where(Asset.status == AssetStatus.HELD).order_by(Asset.slug))
    )
