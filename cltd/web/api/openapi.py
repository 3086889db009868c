"""/api/v1/openapi.json: the API's own description, from schemas/openapi.yaml."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from flask import jsonify
from werkzeug.wrappers import Response

from cltd.resources import schemas_dir
from cltd.web.api import bp


@cache
def openapi_document() -> dict[str, Any]:
    with (schemas_dir() / "openapi.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
