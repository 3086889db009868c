"""No route answers a 500 to bad input: generated requests against every route in the URL map."""

from __future__ import annotations

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.helpers import sign_in

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
texts = st.text(max_size=300)
form_data = st.dictionaries(
    st.sampled_from(
        [
            "email",
            "password",
            "next",
            "locale",
            "display_name",
            "member_class",
            "csrf_token",
            "is_steward",
            "x",
        ]
    ),
    texts,
    max_size=6,
)


def _paths(app: Flask) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "x").replace(f"<path:{argument}>", "x")
        paths.append(path)
    return [*sorted(set(paths)), "/api/v1/%ff%fe", "/nowhere/" + "a" * 3000]


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "steward"])
def test_generated_requests_never_get_a_server_error(app, make_member, signed_in: bool) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    if signed_in:
        steward = make_member(steward=True)
        sign_in(client, steward.email, "correct horse battery staple")
    paths = _paths(app)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        path=st.sampled_from(paths),
        method=st.sampled_from(METHODS),
        data=form_data,
        query=st.dictionaries(st.sampled_from(["next", "since", "lang"]), texts, max_size=2),
        raw=st.binary(max_size=200),
        content_type=st.sampled_from(
            [
                "application/x-www-form-urlencoded",
                "application/json",
                "multipart/form-data",
                "text/plain",
                "application/ld+json",
            ]
        ),
        use_raw=st.booleans(),
    )
    def check(path, method, data, query, raw, content_type, use_raw) -> None:  # type: ignore[no-untyped-def]
        kwargs = {"data": raw, "content_type": content_type} if use_raw else {"data": data}
        response = client.open(path, method=method, query_string=query, **kwargs)
        assert response.status_code < 500, (method, path, response.status_code)

    check()


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("POST", "/signin", {"data": {"email": "a\x00@example.org", "password": "x"}}, "email"),
        ("GET", "/", {"query_string": {"next": "/\x00"}}, "next"),
        ("POST", "/api/v1/clients", {"json": {"name": "Seed\u0000Counter"}}, "name"),
        (
            "PUT",
            "/api/v1/consents",
            {"json": {"purpose": "x", "nested": [{"k": "\u0000"}]}},
            "nested.0.k",
        ),
    ],
)
def test_a_nul_character_is_refused_naming_its_field(  # type: ignore[no-untyped-def]
    client, method: str, path: str, kwargs: dict, field: str
) -> None:
    """PostgreSQL cannot store NUL; no route may reach the database with one (400, not 500)."""
    response = client.open(path, method=method, headers={"Accept": "application/json"}, **kwargs)
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "request.nul_character" and body["field"] == field
