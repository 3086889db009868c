"""Money, numbers and dates are written the reader's way; times are stored in UTC and shown in
the trust's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale, format_datetime
from sqlalchemy import Engine

from cltd.web import create_app
from cltd.web.i18n import money, number
from tests.conftest import make_settings


@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("en", "USD", "$10,500.00"),  # the worked example of the design: the owner's share
        ("es", "EUR", "10.500,00\xa0€"),
        ("fr", "EUR", "10\u202f500,00\xa0€"),
        ("en", "GBP", "£25,500.00"),
    ],
)
def test_money_in_integer_cents_is_written_the_readers_way(
    tmp_path: Path, engine: Engine, language: str, currency: str, expected: str
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(make_settings(tmp_path, url, currency=currency))
    with app.test_request_context(), force_locale(language):
        assert money(1_050_000 if "10" in expected else 2_550_000) == expected


def test_numbers_and_times_follow_locale_and_trust_time_zone(
    tmp_path: Path, engine: Engine
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(make_settings(tmp_path, url, timezone="America/Montreal"))
    stored = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # noon UTC is 08:00 in Montreal in July
    with app.test_request_context():
        with force_locale("fr"):
            assert number(1234567) == "1\u202f234\u202f567"
            assert "08:00" in format_datetime(stored, "short")
        with force_locale("en"):
            assert number(1234567) == "1,234,567"
            assert "8:00" in format_datetime(stored, "short")


def test_an_unknown_currency_stops_start_up(tmp_path: Path, engine: Engine) -> None:
    from cltd.config import ConfigError

    with pytest.raises(ConfigError, match="currency"):
        make_settings(tmp_path, engine.url.render_as_string(hide_password=False), currency="euro")
