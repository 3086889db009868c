"""An asset's record schema and the check of one record against it.

Fields are declared by the steward: a name, a type (text, integer, number, boolean, date) and
whether it is required. A record must have exactly the declared fields (unknown ones are
refused, so nothing undeclared is ever stored), each of its type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from cltd.rules.codes import Code

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_TEXT = 2000


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    required: bool = False


@dataclass(frozen=True)
class FieldProblem:
    field: str
    code: Code
    params: Mapping[str, object]


def parse_field_specs(
    raw: Sequence[Mapping[str, Any]],
) -> tuple[list[FieldSpec], FieldProblem | None]:
    specs: list[FieldSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        name = str(item.get("name", ""))
        where = f"fields[{index}]"
        if not _NAME.match(name) or name in seen:
            return [], FieldProblem(where + ".name", Code.FIELD_NAME_INVALID, {"name": name})
        kind = item.get("type")
        if kind not in tuple(FieldType):
            return [], FieldProblem(where + ".type", Code.FIELD_TYPE_UNKNOWN, {"type": kind})
        seen.add(name)
        specs.append(FieldSpec(name, FieldType(kind), bool(item.get("required", False))))
    if not specs:
        return [], FieldProblem("fields", Code.FIELDS_REQUIRED, {})
    return specs, None


def _coerce(spec: FieldSpec, value: Any) -> tuple[Any, bool]:
    """The value in its canonical form, or (None, False) if it is not of the field's type."""
    if spec.type == FieldType.TEXT:
        ok = isinstance(value, str) and len(value) <= MAX_TEXT
        return (value, True) if ok else (None, False)
    if spec.type == FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value, True
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
            return value.strip().lower() in ("true", "yes"), True
        return None, False
    if spec.type in (FieldType.INTEGER, FieldType.NUMBER):
        if isinstance(value, bool):
            return None, False
        try:
            number = int(value) if spec.type == FieldType.INTEGER else float(value)
        except (TypeError, ValueError):
            return None, False
        if spec.type == FieldType.INTEGER and isinstance(value, float) and not value.is_integer():
            return None, False
        if spec.type == FieldType.NUMBER and number != number:  # NaN
            return None, False
        return number, True
    try:
        return date.fromisoformat(str(value)).isoformat(), True
    except ValueError:
        return None, False


def check_record(
    specs: Sequence[FieldSpec], values: Mapping[str, Any]
) -> tuple[dict[str, Any], FieldProblem | None]:
    """Validate one record; return it in canonical form, or the first problem."""
    known = {spec.name: spec for spec in specs}
    for name in values:
        if name not in known:
            return {}, FieldProblem(name, Code.FIELD_UNKNOWN, {"field": name})
    clean: dict[str, Any] = {}
    for spec in specs:
        raw = values.get(spec.name)
        if raw is None or raw == "":
            if spec.required:
                return {}, FieldProblem(spec.name, Code.FIELD_MISSING, {"field": spec.name})
            continue
        value, ok = _coerce(spec, raw)
        if not ok:
            return {}, FieldProblem(
                spec.name, Code.FIELD_WRONG_TYPE, {"field": spec.name, "type": spec.type.value}
            )
        clean[spec.name] = value
    return clean, None
