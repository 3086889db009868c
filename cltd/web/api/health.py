"""/healthz: is this instance able to serve (process up, database answering)?"""

from __future__ import annotations

import logging

from flask import jsonify
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from cltd import __version__
from cltd.db import ping
from cltd.web.api import health_bp
from cltd.web.problems import problem
from cltd.web.state import db

log = logging.getLogger("cltd.web")


@health_bp.get("/healthz")
def healthz() -> Response:
    try:
        ping(db())
    except SQLAlchemyError:
        log.warning("health check: the database does not answer")
        return problem(503, code="health.database_unavailable")
    return jsonify(status="ok", version=__version__)
