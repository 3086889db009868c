"""JSON request bodies checked against the schemas in schemas/json/ (read once, on first use).

A body that is not JSON is a 400; one that breaks its schema (or is not an object) is a 422
whose problem names the top-level property at fault and says what is wrong in the reader's
language, before any service runs.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from flask import request
from flask_babel import gettext
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from cltd.resources import schemas_dir
from cltd.rules.codes import Code
from cltd.services.errors import InvalidInput


class BadBody(Exception):
    def __init__(self, status: int, code: str, detail: str, field: str | None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((schemas_dir() / "json" / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def json_body(schema_name: str) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        raise BadBody(
            400,
            "request.json_required",
            gettext("Send a JSON object (Content-Type: application/json)."),
            None,
        )
    if not isinstance(body, dict):  # JSON, but not an object: it breaks every schema here
        raise BadBody(422, "request.schema_invalid", explain_body(), None)
    error = best_match(validator(schema_name).iter_errors(body))
    if error is not None:
        field = offending_property(error)
        raise BadBody(422, "request.schema_invalid", explain(error, field), field)
    return body


def offending_property(error: ValidationError) -> str | None:
    """The top-level property the error is about: from its path, or the one missing or extra."""
    if error.absolute_path:
        return str(error.absolute_path[0])
    if not isinstance(error.instance, dict):
        return None
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return missing[0] if missing else None
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(str(name) for name in error.instance if name not in known)
        return extra[0] if extra else None
    return None


def explain_body() -> str:
    return gettext("The body is not what this request takes.")


def explain(error: ValidationError, field: str | None) -> str:
    if field is None:
        return explain_body()
    kind = error.validator
    if kind == "required":
        return gettext("“%(field)s” is required.", field=field)
    if kind == "additionalProperties":
        return gettext("“%(field)s” is not a field this request takes.", field=field)
    if kind == "enum":
        return gettext(
            "“%(value)s” is not allowed in “%(field)s”.",
            value=json.dumps(error.instance, ensure_ascii=False)[:80],
            field=field,
        )
    if kind == "type":
        return gettext("“%(field)s” has the wrong type.", field=field)
    if kind in ("maxLength", "maxItems", "maxProperties"):
        return gettext("“%(field)s” is too long.", field=field)
    if kind in ("minLength", "minItems", "minProperties", "not"):
        return gettext("“%(field)s” must not be empty.", field=field)
    if kind == "pattern":
        return gettext("“%(field)s” holds characters that are not allowed there.", field=field)
    return gettext("“%(field)s” is not valid.", field=field)


def parse_time(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 time with its zone (a bare local time would be ambiguous), or None."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(Code.TIME_INVALID, field) from None
    if moment.tzinfo is None:
        raise InvalidInput(Code.TIME_INVALID, field)
    return moment
