"""The trust's bylaws (governance/bylaws.toml) as checked, immutable values.

They carry the numbers behind invariant 4 (tripartite decisions: quorum and threshold in *each*
of three member classes, counted against that class's seats) and invariant 3 (the asset lock,
which only a lift_lock proposal with a higher bar than a transfer can lift). Parsing is strict:
anything unknown, missing or out of range is a BylawsError naming the file and the dotted key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import Any

from cltd.rules.codes import N_
from cltd.rules.purposes import (
    BylawsError,
    Named,
    PurposeTaxonomy,
    check_keys,
    choice,
    dotted,
    language_map,
    parse_purposes,
    parse_toml,
    read_text,
    require,
)

_TOP = {
    "version",
    "title",
    "taxonomy",
    "classes",
    "decisions",
    "asset_lock",
    "access",
    "elections",
    "votes",
}
_RULE = ("quorum", "threshold", "comparison")
_CLASS_KEY = re.compile(r"[a-z][a-z0-9_]*")


class ProposalKind(StrEnum):
    TRANSFER = "transfer"
    LICENCE = "licence"
    RETIRE = "retire"
    LIFT_LOCK = "lift_lock"
    AMEND_BYLAWS = "amend_bylaws"
    ACCEPT_ASSET = "accept_asset"  # an asset another trust offers us


class Acceptor(StrEnum):
    """Who accepts an asset another trust offers: the board by a proposal, or the steward."""

    BOARD = "board"
    STEWARD = "steward"


class Comparison(StrEnum):
    """How the yes share (yes / (yes + no)) must compare with the threshold."""

    AT_LEAST = "at-least"
    GREATER = "greater"


class TieBreak(StrEnum):
    LOT = "lot"
    SENIORITY = "seniority"


@dataclass(frozen=True)
class MemberClass(Named):
    key: str
    seats: int
    names: Mapping[str, str] = field(hash=False)
    descriptions: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True)
class ClassRule:
    """Within one class: ballots cast ≥ quorum × seats, and yes/(yes+no) vs threshold."""

    quorum: Fraction
    threshold: Fraction
    comparison: Comparison

    def describe(self) -> str:
        word = "at least" if self.comparison is Comparison.AT_LEAST else "more than"
        return f"quorum {self.quorum}, {word} {self.threshold} yes"


@dataclass(frozen=True)
class DecisionRule:
    kind: ProposalKind
    voting_days: int
    per_class: Mapping[str, ClassRule] = field(hash=False)


@dataclass(frozen=True)
class AssetLockRules:
    locked_by_default: bool
    recipient_must_be_locked: bool


@dataclass(frozen=True)
class TransferRules:
    incoming: Acceptor = Acceptor.BOARD
    offer_days: int = 30  # an offer not accepted by then expires; the asset stays with its sender


@dataclass(frozen=True)
class Bylaws:
    version: str
    title: str
    classes: tuple[MemberClass, MemberClass, MemberClass]
    decisions: Mapping[ProposalKind, DecisionRule] = field(hash=False)
    asset_lock: AssetLockRules
    access_grant_days: int
    election_tie_break: TieBreak
    votes_public: bool
    taxonomy: PurposeTaxonomy
    digest: str
    # The contributors' part of each licence payment (the CLT owner's share of appreciation);
    # the rest goes to the commons fund.
    contributors_share: Fraction = Fraction(35, 100)
    transfers: TransferRules = TransferRules()

    def class_keys(self) -> tuple[str, str, str]:
        a, b, c = (member_class.key for member_class in self.classes)
        return a, b, c

    def member_class(self, key: str) -> MemberClass:
        for member_class in self.classes:
            if member_class.key == key:
                return member_class
        raise KeyError(key)


def parse_bylaws(
    text: str, *, source: str, taxonomy: PurposeTaxonomy, taxonomy_bytes: bytes = b""
) -> Bylaws:
    """Check and build the bylaws. Enforces exactly three member classes (invariant 4), a
    complete rule for every proposal kind in every class, and a lift_lock bar strictly higher
    than a transfer's in every class (invariant 3). `digest` names these exact rules."""
    doc = parse_toml(text, source)
    _taxonomy_file(doc, source)
    digest = hashlib.sha256(text.encode("utf-8") + b"\n" + taxonomy_bytes).hexdigest()
    return _build(doc, source, taxonomy, digest)


def load_bylaws(path: Path) -> Bylaws:
    """Read the bylaws at `path` and the taxonomy its [taxonomy] file names (relative to it)."""
    source, text = str(path), read_text(path)
    name = _taxonomy_file(parse_toml(text, source), source)
    try:
        listed = read_text(path.parent / name)
    except BylawsError as exc:
        raise BylawsError(
            source,
            "taxonomy.file",
            N_("names %(name)r, which %(problem)s"),
            name=name,
            problem=exc.problem,
        ) from exc
    taxonomy = parse_purposes(listed, source=str(path.parent / name))
    return parse_bylaws(text, source=source, taxonomy=taxonomy, taxonomy_bytes=listed.encode())


def _table(
    parent: Mapping[str, Any],
    key: str,
    where: str,
    source: str,
    allowed: set[str],
    required: set[str] | None = None,
    *,
    optional: bool = False,
    what: str = "a setting known here",
) -> dict[str, Any]:
    """parent[key] as a table holding only `allowed` keys (all of them unless `required`)."""
    if optional and key not in parent:
        return {}
    table: dict[str, Any] = require(parent, key, dict, N_("a table"), where, source)
    check_keys(
        table, allowed, dotted(where, key), source, allowed if required is None else required, what
    )
    return table


def _taxonomy_file(doc: Mapping[str, Any], source: str) -> str:
    check_keys(doc, {*_TOP, "revenue", "transfers"}, "", source, required=_TOP)
    name: str = require(
        _table(doc, "taxonomy", "", source, {"file"}),
        "file",
        str,
        N_("a file name"),
        "taxonomy",
        source,
    )
    if PurePath(name).is_absolute():
        raise BylawsError(source, "taxonomy.file", N_("must be a path relative to the bylaws file"))
    return name


def _build(doc: Mapping[str, Any], source: str, taxonomy: PurposeTaxonomy, digest: str) -> Bylaws:
    classes = _classes(doc, source)
    decisions = _decisions(doc, [c.key for c in classes], source)
    lock = _table(doc, "asset_lock", "", source, {"locked_by_default", "recipient_must_be_locked"})
    access = _table(doc, "access", "", source, {"grant_days"})
    elections = _table(doc, "elections", "", source, {"tie_break"})
    votes = _table(doc, "votes", "", source, {"public"})
    revenue = _table(doc, "revenue", "", source, {"contributors_share"}, optional=True)
    share = revenue.get("contributors_share", "35/100")
    transfers = _table(
        doc, "transfers", "", source, {"incoming", "offer_days"}, set(), optional=True
    )
    yes_no = N_("true or false")
    return Bylaws(
        version=require(doc, "version", str, N_('a string like "2026.1"'), "", source).strip(),
        title=require(doc, "title", str, N_("a string"), "", source).strip(),
        classes=classes,
        decisions=decisions,
        asset_lock=AssetLockRules(
            require(lock, "locked_by_default", bool, yes_no, "asset_lock", source),
            require(lock, "recipient_must_be_locked", bool, yes_no, "asset_lock", source),
        ),
        access_grant_days=_positive(access, "grant_days", "access", source),
        election_tie_break=choice(elections, "tie_break", TieBreak, "elections", source),
        votes_public=require(votes, "public", bool, yes_no, "votes", source),
        taxonomy=taxonomy,
        digest=digest,
        contributors_share=_fraction(share, "revenue.contributors_share", source, allow_zero=True),
        transfers=TransferRules(
            choice(transfers, "incoming", Acceptor, "transfers", source)
            if "incoming" in transfers
            else Acceptor.BOARD,
            _positive(transfers, "offer_days", "transfers", source)
            if "offer_days" in transfers
            else 30,
        ),
    )


def _classes(doc: Mapping[str, Any], source: str) -> tuple[MemberClass, MemberClass, MemberClass]:
    table = require(doc, "classes", dict, N_("a table of [classes.<key>]"), "", source)
    if len(table) != 3:
        raise BylawsError(
            source,
            "classes",
            N_("must define exactly three member classes, found %(count)s: %(found)s"),
            count=len(table),
            found=", ".join(table) or "none",
        )
    built = []
    for key in table:
        where = dotted("classes", key)
        if not _CLASS_KEY.fullmatch(key):
            raise BylawsError(
                source,
                where,
                N_("a class key must be lower-case letters, digits and _, starting with a letter"),
            )
        raw = _table(table, key, "classes", source, {"seats", "name", "description"})
        built.append(
            MemberClass(
                key=key,
                seats=_positive(raw, "seats", where, source),
                names=language_map(raw, "name", where, source),
                descriptions=language_map(raw, "description", where, source),
            )
        )
    return built[0], built[1], built[2]


# A rule setting as found: (value, dotted key it came from, level 0 default/1 kind/2 class).
_Setting = tuple[Any, str, int]


def _decisions(
    doc: Mapping[str, Any], class_keys: list[str], source: str
) -> Mapping[ProposalKind, DecisionRule]:
    table = require(doc, "decisions", dict, N_("a table"), "", source)
    check_keys(table, {"default", *ProposalKind}, "decisions", source, what=N_("a proposal kind"))
    default = _table(table, "default", "decisions", source, {*_RULE, "voting_days"})
    base = _settings(default, "decisions.default", 0, source)
    _positive(default, "voting_days", "decisions.default", source)
    resolved: dict[ProposalKind, DecisionRule] = {}
    for kind in ProposalKind:
        where = dotted("decisions", kind.value)
        raw = _table(
            table,
            kind.value,
            "decisions",
            source,
            {*_RULE, "voting_days", "classes"},
            set(),
            optional=True,
        )
        kind_settings = {**base, **_settings(raw, where, 1, source)}
        overrides = _table(
            raw,
            "classes",
            where,
            source,
            set(class_keys),
            set(),
            optional=True,
            what="a member class",
        )
        per_class = {}
        for name in class_keys:
            here = dotted(dotted(where, "classes"), name)
            override = _table(
                overrides, name, dotted(where, "classes"), source, set(_RULE), set(), optional=True
            )
            merged = {**kind_settings, **_settings(override, here, 2, source)}
            per_class[name] = _class_rule(merged, source)
            if kind is ProposalKind.LIFT_LOCK:  # transfer comes first in ProposalKind
                _check_lift_lock(
                    name,
                    merged,
                    per_class[name],
                    resolved[ProposalKind.TRANSFER].per_class[name],
                    source,
                )
        days = _positive({**default, **raw}, "voting_days", where, source)
        resolved[kind] = DecisionRule(kind, days, MappingProxyType(per_class))
    return MappingProxyType(resolved)


def _settings(table: Mapping[str, Any], where: str, level: int, source: str) -> dict[str, _Setting]:
    found: dict[str, _Setting] = {}
    for name in ("quorum", "threshold"):
        if name in table:
            value = _fraction(table[name], dotted(where, name), source, allow_zero=name == "quorum")
            found[name] = (value, dotted(where, name), level)
    if "comparison" in table:
        found["comparison"] = (
            choice(table, "comparison", Comparison, where, source),
            dotted(where, "comparison"),
            level,
        )
    return found


def _class_rule(merged: Mapping[str, _Setting], source: str) -> ClassRule:
    rule = ClassRule(merged["quorum"][0], merged["threshold"][0], merged["comparison"][0])
    if rule.threshold == 1 and rule.comparison is Comparison.GREATER:
        key = max(merged["threshold"], merged["comparison"], key=lambda s: s[2])[1]
        raise BylawsError(
            source,
            key,
            N_(
                "a yes share greater than 1 can never happen; use "
                'comparison "at-least" with threshold 1 for unanimity'
            ),
        )
    return rule


def _check_lift_lock(
    name: str, settings: Mapping[str, _Setting], lift: ClassRule, transfer: ClassRule, source: str
) -> None:
    """Invariant 3: lifting a lock is a proposal with a higher bar than a transfer."""
    higher = lift.threshold > transfer.threshold or (
        lift.threshold == transfer.threshold
        and lift.comparison is Comparison.GREATER
        and transfer.comparison is Comparison.AT_LEAST
    )
    if lift.quorum < transfer.quorum or not higher:
        field_name = "quorum" if lift.quorum < transfer.quorum else "threshold"
        _value, key, level = settings[field_name]
        if level == 0:  # inherited from [decisions.default]: say where to raise it
            key = f"decisions.lift_lock.{field_name}"
        raise BylawsError(
            source,
            key,
            N_(
                "lifting the asset lock must need more than a transfer in every class; in class "
                "%(name)r lift_lock has %(lift)s, transfer has %(transfer)s"
            ),
            name=name,
            lift=lift.describe(),
            transfer=transfer.describe(),
        )


def _fraction(value: object, where: str, source: str, *, allow_zero: bool) -> Fraction:
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError(value)
        result = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise BylawsError(
            source,
            where,
            N_('is not a fraction: %(value)r (write a number like 0.5 or a fraction like "2/3")'),
            value=value,
        ) from None
    if result > 1 or result < 0 or (result == 0 and not allow_zero):
        bounds = N_("0 and 1 inclusive") if allow_zero else N_("0 and 1 (more than 0, at most 1)")
        raise BylawsError(
            source,
            where,
            N_("must be between %(bounds)s, got %(value)s"),
            bounds=bounds,
            value=value,
        )
    return result


def _positive(table: Mapping[str, Any], key: str, where: str, source: str) -> int:
    value: int = require(table, key, int, N_("a whole number"), where, source)
    if value < 1:
        raise BylawsError(
            source, dotted(where, key), N_("must be 1 or more, got %(value)s"), value=value
        )
    return value
