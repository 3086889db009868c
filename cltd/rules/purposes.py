"""The purpose taxonomy (governance/purposes.toml): which DPV purposes the trust knows.

Invariant 1 (purpose limitation) rests on it: consent to a purpose covers that purpose and its
descendants, never its parent or siblings. Each purpose carries an access mark that says whether
a consumer may be granted it at once (open), only after the board agrees (board-review), or
never (prohibited). Stdlib only; errors name the file and the dotted key at fault.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cltd.rules.codes import N_

REQUIRED_LANGUAGES = ("en", "es", "fr")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SLUG = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_E = TypeVar("_E", bound=StrEnum)


class BylawsError(ValueError):
    """A governance file (bylaws or purpose taxonomy) is wrong: which file, which key, why."""

    def __init__(self, file: str, key: str, problem: str, /, **params: object) -> None:
        # PROBLEM is a message template marked with N_, so a steward's terminal can show it
        # translated (cltd.cli); PARAMS fill it in. str() is always the English sentence.
        self.template, self.params = problem, params
        text = problem % params if params else problem
        self.file, self.key, self.problem = (" ".join(t.splitlines()) for t in (file, key, text))
        super().__init__(f"{self.file}: {self.key}: {self.problem}")


class Access(StrEnum):
    """How a consumer may obtain a grant for a purpose (members must still consent)."""

    OPEN = "open"
    BOARD_REVIEW = "board-review"
    PROHIBITED = "prohibited"


class Named:
    """Something with a name and a description in several languages (language maps)."""

    names: Mapping[str, str]
    descriptions: Mapping[str, str]

    def name(self, locale: str, fallback: str = "en") -> str:
        """The name in `locale` ("es", "es_ES", "pt-BR"), else `fallback`, else English."""
        return pick_language(self.names, locale, fallback)

    def description(self, locale: str, fallback: str = "en") -> str:
        return pick_language(self.descriptions, locale, fallback)


@dataclass(frozen=True)
class Purpose(Named):
    key: str
    iri: str
    parent: str | None
    access: Access
    names: Mapping[str, str] = field(hash=False)
    descriptions: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True)
class PurposeTaxonomy:
    """A forest of purposes, each with at most one parent; validated acyclic on parsing."""

    purposes: Mapping[str, Purpose] = field(hash=False)
    _children: Mapping[str, tuple[str, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _iris: Mapping[str, Purpose] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        children: dict[str, list[str]] = {key: [] for key in self.purposes}
        for purpose in self.purposes.values():
            if purpose.parent is not None:
                children[purpose.parent].append(purpose.key)
        object.__setattr__(
            self, "_children", MappingProxyType({k: tuple(v) for k, v in children.items()})
        )
        object.__setattr__(
            self, "_iris", MappingProxyType({p.iri: p for p in self.purposes.values()})
        )

    def __getitem__(self, key: str) -> Purpose:
        return self.purposes[key]

    def __contains__(self, key: object) -> bool:
        return key in self.purposes

    def __iter__(self) -> Iterator[str]:
        return iter(self.purposes)

    def __len__(self) -> int:
        return len(self.purposes)

    def get(self, key: str) -> Purpose | None:
        return self.purposes.get(key)

    def ancestors(self, key: str) -> tuple[str, ...]:
        """Parent, grandparent, … of `key` (nearest first, `key` excluded). KeyError if unknown."""
        chain: list[str] = []
        parent = self.purposes[key].parent
        while parent is not None:
            chain.append(parent)
            parent = self.purposes[parent].parent
        return tuple(chain)

    def descendants(self, key: str) -> frozenset[str]:
        """Every purpose below `key` (`key` excluded). KeyError if unknown."""
        found: set[str] = set()
        stack = list(self._children[key])
        while stack:
            child = stack.pop()
            found.add(child)
            stack.extend(self._children[child])
        return frozenset(found)

    def covers(self, consented: str, requested: str) -> bool:
        """Invariant 1: consent to `consented` covers `requested` if it is that purpose or an
        ancestor of it. Fails closed: a key the taxonomy does not know covers nothing."""
        if consented not in self.purposes or requested not in self.purposes:
            return False
        return requested == consented or consented in self.ancestors(requested)

    def by_iri(self, iri: str) -> Purpose | None:
        return self._iris.get(iri)

    def roots(self) -> tuple[str, ...]:
        return tuple(key for key, p in self.purposes.items() if p.parent is None)


def parse_purposes(text: str, *, source: str) -> PurposeTaxonomy:
    """Read a purpose taxonomy. Enforces: every parent exists, no parent cycle, IRIs absolute
    http(s) and unique, names and descriptions in en/es/fr, and a child of a prohibited
    purpose is prohibited too (a prohibition cannot be escaped by asking for something narrower).
    """
    doc = parse_toml(text, source)
    check_keys(doc, {"purposes"}, "", source, required={"purposes"})
    table = require(doc, "purposes", dict, N_("a table of [purposes.<key>]"), "", source)
    if not table:
        raise BylawsError(source, "purposes", N_("must define at least one purpose"))
    purposes: dict[str, Purpose] = {}
    iris: dict[str, str] = {}
    for key, raw in table.items():
        where = dotted("purposes", key)
        if not _SLUG.fullmatch(key):
            raise BylawsError(
                source,
                where,
                N_(
                    "a purpose key must be lower-case letters, digits "
                    "and hyphens, starting with a letter"
                ),
            )
        if not isinstance(raw, dict):
            raise BylawsError(source, where, N_("must be a table, got %(got)s"), got=type_name(raw))
        check_keys(
            raw,
            {"iri", "parent", "access", "name", "description"},
            where,
            source,
            required={"iri", "access", "name", "description"},
        )
        iri = require(raw, "iri", str, N_("a string"), where, source)
        parts = urlsplit(iri)
        if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", iri):
            raise BylawsError(
                source,
                dotted(where, "iri"),
                N_("must be an absolute http(s) IRI, got %(iri)r"),
                iri=iri,
            )
        if iri in iris:
            raise BylawsError(
                source,
                dotted(where, "iri"),
                N_("%(iri)s is already used by %(other)s"),
                iri=iri,
                other=dotted("purposes", iris[iri]),
            )
        iris[iri] = key
        parent = raw.get("parent")
        if parent is not None:
            parent = require(raw, "parent", str, N_("a purpose key"), where, source)
        access = choice(raw, "access", Access, where, source)
        purposes[key] = Purpose(
            key=key,
            iri=iri,
            parent=parent,
            access=access,
            names=language_map(raw, "name", where, source),
            descriptions=language_map(raw, "description", where, source),
        )
    _check_parents(purposes, source)
    return PurposeTaxonomy(MappingProxyType(purposes))


def load_purposes(path: Path) -> PurposeTaxonomy:
    """Read and check the taxonomy file at `path`."""
    return parse_purposes(read_text(path), source=str(path))


def _check_parents(purposes: Mapping[str, Purpose], source: str) -> None:
    for key, purpose in purposes.items():
        where = dotted(dotted("purposes", key), "parent")
        if purpose.parent is None:
            continue
        if purpose.parent == key:
            raise BylawsError(source, where, N_("a purpose cannot be its own parent"))
        if purpose.parent not in purposes:
            raise BylawsError(
                source,
                where,
                N_("names %(parent)r, which is not a purpose in this file"),
                parent=purpose.parent,
            )
        seen = [key]
        parent: str | None = purpose.parent
        while parent is not None:
            if parent in seen:
                loop = seen[seen.index(parent) :]
                raise BylawsError(
                    source,
                    dotted(dotted("purposes", loop[0]), "parent"),
                    N_("parents form a cycle: %(cycle)s"),
                    cycle=" → ".join([*loop, parent]),
                )
            seen.append(parent)
            parent = purposes[parent].parent if parent in purposes else None
    for key, purpose in purposes.items():
        parent_purpose = purposes[purpose.parent] if purpose.parent is not None else None
        if (
            parent_purpose is not None
            and parent_purpose.access is Access.PROHIBITED
            and purpose.access is not Access.PROHIBITED
        ):
            raise BylawsError(
                source,
                dotted(dotted("purposes", key), "access"),
                N_("must be 'prohibited' because its parent %(parent)r is"),
                parent=purpose.parent,
            )


# Helpers shared with cltd.rules.bylaws: reading a TOML governance file and checking its values.


def read_text(path: Path) -> str:
    """The file's text, or BylawsError(<file>) saying why it cannot be read."""
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise BylawsError(
            str(path), "<file>", N_("cannot be read: %(reason)s"), reason=exc.strerror or str(exc)
        ) from exc
    except UnicodeDecodeError as exc:
        raise BylawsError(
            str(path), "<file>", N_("is not UTF-8 text: %(reason)s"), reason=str(exc)
        ) from exc


def parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BylawsError(source, "<toml>", str(exc)) from exc


def dotted(prefix: str, key: str) -> str:
    """`prefix.key`, quoting `key` the way TOML would if it is not a bare key."""
    part = key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)
    return f"{prefix}.{part}" if prefix else part


def type_name(value: object) -> str:
    names = {
        bool: N_("true/false"),
        int: N_("a whole number"),
        float: N_("a decimal number"),
        str: N_("a string"),
        dict: N_("a table"),
        list: N_("a list"),
    }
    return names.get(type(value), type(value).__name__)


def check_keys(
    table: Mapping[str, Any],
    allowed: AbstractSet[str],
    where: str,
    source: str,
    required: AbstractSet[str] = frozenset(),
    what: str = N_("a setting known here"),
) -> None:
    """No key outside `allowed`, every key of `required` present."""
    for key in table:
        if key not in allowed:
            raise BylawsError(
                source,
                dotted(where, key),
                N_("is not %(what)s; expected %(allowed)s"),
                what=what,
                allowed=", ".join(sorted(allowed)),
            )
    for key in sorted(required - table.keys()):
        raise BylawsError(source, dotted(where, key), N_("is required"))


def require(
    table: Mapping[str, Any], key: str, kind: type, wanted: str, where: str, source: str
) -> Any:
    """table[key], which must be an instance of `kind` (true/false is never a number)."""
    if key not in table:
        raise BylawsError(source, dotted(where, key), N_("is required"))
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise BylawsError(
            source,
            dotted(where, key),
            N_("must be %(wanted)s, got %(got)s (%(value)r)"),
            wanted=wanted,
            got=type_name(value),
            value=value,
        )
    if isinstance(value, str) and not value.strip():
        raise BylawsError(source, dotted(where, key), N_("must not be empty"))
    return value


def choice(table: Mapping[str, Any], key: str, options: type[_E], where: str, source: str) -> _E:
    """table[key] as a member of the `options` enum, or an error listing the allowed values."""
    value: str = require(table, key, str, N_("a string"), where, source)
    if value not in {option.value for option in options}:
        raise BylawsError(
            source,
            dotted(where, key),
            N_("must be one of %(options)s, got %(value)r"),
            options=", ".join(repr(o.value) for o in options),
            value=value,
        )
    return options(value)


def language_map(table: Mapping[str, Any], key: str, where: str, source: str) -> Mapping[str, str]:
    """A {language tag: text} table with at least en, es and fr, each a non-empty string."""
    raw = require(
        table, key, dict, N_("a table like {en = ..., es = ..., fr = ...}"), where, source
    )
    here = dotted(where, key)
    for lang in REQUIRED_LANGUAGES:
        if lang not in raw:
            raise BylawsError(
                source,
                dotted(here, lang),
                N_("is required (every text needs %(languages)s)"),
                languages=", ".join(REQUIRED_LANGUAGES),
            )
    for lang in raw:
        if not _LANGUAGE_TAG.fullmatch(lang):
            raise BylawsError(
                source, dotted(here, lang), N_("is not a language tag like 'es' or 'pt-BR'")
            )
        require(raw, lang, str, N_("a string"), here, source)
    return MappingProxyType({lang: raw[lang].strip() for lang in raw})


def pick_language(texts: Mapping[str, str], locale: str, fallback: str = "en") -> str:
    """Best text for a locale: exact tag, then its language, then `fallback`, then English."""
    tag = locale.replace("_", "-").lower()
    lowered = {lang.lower(): text for lang, text in texts.items()}
    for candidate in (tag, tag.split("-")[0], fallback.replace("_", "-").lower(), "en"):
        if candidate in lowered:
            return lowered[candidate]
    return next(iter(texts.values()))
