"""Errors as RFC 9457 problem details for the API, and as a readable page for people.

No route answers a traceback: every HTTP error, refusal from a service, CSRF failure and
unexpected exception ends here and is shown in the reader's language.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from cltd.adapters.vault import VaultError
from cltd.rules.codes import MESSAGES
from cltd.services.errors import ServiceError
from cltd.web.inputs import BadBody

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("cltd.web")


def _titles() -> dict[int, str]:
    return {
        400: gettext("The request could not be understood"),
        401: gettext("You need to sign in"),
        403: gettext("You are not allowed to do this"),
        404: gettext("Nothing here"),
        405: gettext("This method is not allowed here"),
        409: gettext("This conflicts with what the trust already holds"),
        413: gettext("The request is too large"),
        415: gettext("This content type is not accepted"),
        422: gettext("Some of the input is not valid"),
        429: gettext("Too many attempts"),
        500: gettext("Something went wrong on our side"),
        503: gettext("The trust is unavailable for a moment"),
    }


def wants_problem_json() -> bool:
    if request.path.startswith(("/api/", "/healthz", "/federation/")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_JSON])
    return best in ("application/json", PROBLEM_JSON)


def problem(
    status: int,
    detail: str | None = None,
    *,
    code: str | None = None,
    field: str | None = None,
    title: str | None = None,
) -> Response:
    body: dict[str, object] = {
        "type": f"urn:cltd:problem:{code}" if code else "about:blank",
        "title": title or _titles().get(status, gettext("The request could not be completed")),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if code:
        body["code"] = code
    if field:
        body["field"] = field
    if wants_problem_json():
        response = jsonify(body)
        response.mimetype = PROBLEM_JSON
    else:
        response = Response(render_template("problem.html", problem=body), mimetype="text/html")
    response.status_code = status
    return response


def service_error_detail(error: ServiceError) -> str:
    return gettext(MESSAGES[error.code], **error.params)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> Response:
        return problem(
            error.status, service_error_detail(error), code=error.code.value, field=error.field
        )

    @app.errorhandler(BadBody)
    def _bad_body(error: BadBody) -> Response:
        return problem(error.status, error.detail, code=error.code, field=error.field)

    @app.errorhandler(VaultError)
    def _unreadable(error: VaultError) -> Response:
        log.error("a sealed value did not open: %s", error)
        return problem(409, code="vault.unreadable")

    @app.errorhandler(PoolTimeout)
    def _busy(error: PoolTimeout) -> Response:
        log.warning("every database connection is busy")
        return problem(503, code="request.database_busy")

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError) -> Response:
        log.warning("the database does not answer: %s", str(error.orig).strip().splitlines()[0:1])
        return problem(503, code="request.database_unavailable")

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Response:
        return problem(
            400,
            gettext(
                "This form has expired or did not come from this site. "
                "Reload the page and try again."
            ),
            code="request.csrf_failed",
            field="csrf_token",
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        detail = gettext("Wait a little before you try again.") if status == 429 else None
        response = problem(status, detail)
        if status == 429:
            for header in ("Retry-After", "X-RateLimit-Limit", "X-RateLimit-Reset"):
                if header in error.get_response().headers:
                    response.headers[header] = error.get_response().headers[header]
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return _http_error(error)
        log.exception("unexpected error on %s %s", request.method, request.path)
        return problem(InternalServerError.code)
