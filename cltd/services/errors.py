"""What a service raises when a request cannot be carried out; the caller turns it into words."""

from __future__ import annotations

from collections.abc import Mapping

from cltd.rules.codes import Code


class ServiceError(Exception):
    """Base: a refusal with a stable code, the input field it concerns, and message values."""

    status = 400

    def __init__(
        self, code: Code, field: str | None = None, params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(code.value)
        self.code = code
        self.field = field
        self.params = dict(params or {})


class InvalidInput(ServiceError):
    status = 422


class Conflict(ServiceError):
    status = 409


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403
