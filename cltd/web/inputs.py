"""JSON request bodies checked against the schemas in schemas/json/ (read once, on first use).

A body that is not JSON, or breaks its schema, is answered 422 with a problem naming the
property at fault, before any service runs.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import request
from flask_babel import gettext
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from cltd.resources import schemas_dir


class BadBody(Exception):
    def __init__(self, detail: str, field: str | None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((schemas_dir() / "json" / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def json_body(schema_name: str) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadBody(gettext("The request body must be a JSON object."), None)
    error = best_match(validator(schema_name).iter_errors(body))
    if error is not None:
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = ".".join(filter(None, (path, missing)))
        elif error.validator == "additionalProperties" and "'" in error.message:
            path = ".".join(filter(None, (path, error.message.split("'")[1])))
        raise BadBody(
            gettext("This value is not valid: %(reason)s", reason=error.message), path or None
        )
    return body
