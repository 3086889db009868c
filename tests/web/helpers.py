"""Small helpers for driving the pages the way a browser would (forms with CSRF tokens)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def post_form(client: FlaskClient, page: str, action: str, data: dict[str, str]) -> TestResponse:
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(action, data={**data, "csrf_token": token})


def sign_in(client: FlaskClient, email: str, password: str) -> TestResponse:
    return post_form(client, "/signin", "/signin", {"email": email, "password": password})
