"""The JSON API under /api/v1, and the health probe. Errors are problem+json."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health_bp = Blueprint("health", __name__)

from cltd.web.api import (  # noqa: E402, F401
    access,
    assets,
    board,
    clients,
    consents,
    federation,
    health,
    me,
    openapi,
    tokens,
    transfers,
)
