"""/api/v1/openapi.json stays true: every API route is documented, every documented route
exists, and real answers match the documented schemas."""

from __future__ import annotations

import re

import jsonschema
import pytest
from flask import Flask

from cltd.web.api.openapi import openapi_document

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _routes(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            found.add((path, method.lower()))
    return found


def _documented() -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_api_route_is_documented_and_every_documented_route_exists(app: Flask) -> None:
    routes, documented = _routes(app), _documented()
    assert routes - documented == set(), "routes missing from schemas/openapi.yaml"
    assert documented - routes == set(), "documented routes the app does not have"


def test_the_document_is_served_as_json(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.1")


def _schema(status: str, path: str, method: str) -> dict[str, object]:
    document = openapi_document()
    answer = document["paths"][path][method]["responses"][status]
    if "$ref" in answer:
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    content = answer["content"]
    schema = next(iter(content.values()))["schema"]
    return {**schema, "components": document["components"]}


def _validate(body: object, status: int, path: str, method: str) -> None:
    schema = _schema(str(status), path, method)
    # Local $refs point into the document's components, which the schema carries along.
    resolver_schema = {**schema}
    if "$ref" in schema:
        resolver_schema = {"$ref": schema["$ref"], "components": schema["components"]}
    jsonschema.validate(body, resolver_schema)


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/tokens", "/api/v1/clients"])
def test_anonymous_answers_match_the_documented_problem(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 401
    _validate(response.get_json(), 401, path, "get")


def test_a_signed_in_members_answers_match_the_document(client, make_member) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import TEST_PASSWORD
    from tests.web.helpers import sign_in

    member = make_member(steward=True, locale="es")
    sign_in(client, member.email, TEST_PASSWORD)
    for path in ("/api/v1/me", "/api/v1/tokens", "/api/v1/clients"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_json())
        _validate(response.get_json(), 200, path, "get")
