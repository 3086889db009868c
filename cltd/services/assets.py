"""Community data assets: created by a steward, held under the asset lock by default."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cltd.config import SUPPORTED_LOCALES
from cltd.models import Asset, AssetStatus
from cltd.rules.bylaws import Bylaws
from cltd.rules.codes import Code
from cltd.rules.fields import FieldSpec, parse_field_specs
from cltd.rules.policy import AssetPolicy, check_policy
from cltd.services import audit
from cltd.services.audit import AuditAction
from cltd.services.errors import Conflict, InvalidInput, NotFound

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
DEFAULT_FIELDS: tuple[Mapping[str, Any], ...] = ({"name": "value", "type": "text"},)


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
    fields: Sequence[Mapping[str, Any]] = DEFAULT_FIELDS,
    contributing_classes: Sequence[str] | None = None,
    permitted: Mapping[str, Sequence[str]] | None = None,
    prohibited: Sequence[str] = (),
    duties: Sequence[str] = (),
    status: AssetStatus = AssetStatus.HELD,
    locked: bool | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> Asset:
    """Create an asset under the asset lock by default, with its record schema and policy.
    An asset arriving from another trust is created ARRIVING, with its provenance: no one
    sees it in the catalog until the sender hands it over (custody.receive)."""
    if not _SLUG.match(slug):
        raise InvalidInput(Code.ASSET_SLUG_INVALID, "slug")
    titles = _language_map(title)
    if not titles:
        raise InvalidInput(Code.ASSET_TITLE_REQUIRED, "title")
    for lang in (*titles, *description):
        if lang not in SUPPORTED_LOCALES:
            raise InvalidInput(Code.LOCALE_UNKNOWN, f"title.{lang}")
    specs, problem = parse_field_specs(fields)
    if problem is not None:
        raise InvalidInput(problem.code, problem.field, problem.params)
    classes = list(contributing_classes or bylaws.class_keys())
    for member_class in classes:
        if member_class not in bylaws.class_keys():
            raise InvalidInput(Code.CLASS_UNKNOWN, "contributing_classes", {"value": member_class})
    try:
        policy = AssetPolicy.build(permitted or {}, prohibited, duties)
    except ValueError:
        raise InvalidInput(Code.DUTY_UNKNOWN, "duties") from None
    checked = check_policy(policy, bylaws.taxonomy, [s.name for s in specs])
    if not checked:
        assert checked.code is not None
        raise InvalidInput(checked.code, "policy", checked.params)
    if session.scalar(select(Asset.id).where(Asset.slug == slug)) is not None:
        raise Conflict(Code.ASSET_SLUG_TAKEN, "slug")
    asset = Asset(
        slug=slug,
        title=titles,
        description=_language_map(description),
        keywords=[k.strip() for k in keywords if k.strip()],
        fields=[{"name": s.name, "type": s.type.value, "required": s.required} for s in specs],
        contributing_classes=classes,
        policy=policy_document(policy),
        locked=bylaws.asset_lock.locked_by_default if locked is None else locked,
        status=status,
        created_at=at,
        modified_at=at,
        provenance=dict(provenance) if provenance else None,
    )
    session.add(asset)
    session.flush()
    entry = audit.record(
        session,
        actor=actor,
        action=AuditAction.ASSET_CREATED,
        subject=f"asset:{asset.id}",
        at=at,
        details={"slug": slug, "locked": asset.locked, "status": status.value},
    )
    if status == AssetStatus.HELD:
        asset.change_seq = entry.seq
    return asset


def describe_asset(
    session: Session,
    asset_id: int,
    *,
    title: Mapping[str, str] | None,
    description: Mapping[str, str] | None,
    keywords: Sequence[str] | None,
    actor: str,
    at: datetime,
) -> Asset:
    """A steward changes what the catalog says about a held asset (its words, not its data,
    policy or custody); peers pick the change up on their next sync."""
    asset = get_held(session, asset_id, lock=True)
    changed: list[str] = []
    if title is not None:
        titles = _language_map(title)
        if not titles:
            raise InvalidInput(Code.ASSET_TITLE_REQUIRED, "title")
        asset.title, changed = titles, [*changed, "title"]
    if description is not None:
        asset.description, changed = _language_map(description), [*changed, "description"]
    for lang in (*asset.title, *asset.description):
        if lang not in SUPPORTED_LOCALES:
            raise InvalidInput(Code.LOCALE_UNKNOWN, f"title.{lang}")
    if keywords is not None:
        asset.keywords = [k.strip() for k in keywords if k.strip()]
        changed.append("keywords")
    asset.modified_at = at
    entry = audit.record(
        session,
        actor=actor,
        action=AuditAction.ASSET_DESCRIBED,
        subject=f"asset:{asset.id}",
        at=at,
        details={"changed": changed},
    )
    asset.change_seq = entry.seq
    return asset


def policy_document(policy: AssetPolicy) -> dict[str, object]:
    return {
        "permitted": {p: sorted(f) for p, f in sorted(policy.permitted.items())},
        "prohibited": sorted(policy.prohibited),
        "duties": sorted(d.value for d in policy.duties),
    }


def policy_of(asset: Asset) -> AssetPolicy:
    document = asset.policy or {}
    return AssetPolicy.build(
        document.get("permitted", {}),  # type: ignore[arg-type]
        document.get("prohibited", []),  # type: ignore[arg-type]
        document.get("duties", []),  # type: ignore[arg-type]
    )


def fields_of(asset: Asset) -> list[FieldSpec]:
    specs, _problem = parse_field_specs(asset.fields or [])
    return specs


def get_held(session: Session, asset_id: int, *, lock: bool = False) -> Asset:
    query = select(Asset).where(Asset.id == asset_id)
    asset = session.scalar(query.with_for_update() if lock else query)
    if asset is None:
        raise NotFound(Code.ASSET_UNKNOWN, "asset_id")
    if asset.status != AssetStatus.HELD:
        raise Conflict(Code.ASSET_NOT_HELD, "asset_id")
    return asset


def held_assets(session: Session) -> list[Asset]:
    return list(
        session.scalars(select(Asset).where(Asset.status == AssetStatus.HELD).order_by(Asset.slug))
    )
