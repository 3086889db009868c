"""Language and time zone of each request (Flask-Babel).

Order: the member's saved language, then an explicit choice made with the switcher before
signing in, then the browser's Accept-Language, then the trust's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from flask import g, request, session
from flask_babel import get_locale

from cltd.config import SUPPORTED_LOCALES
from cltd.web.state import state

LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français"}


def select_locale() -> str:
    member = g.get("member")
    if member is not None and member.locale in SUPPORTED_LOCALES:
        return member.locale
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    best = request.accept_languages.best_match(SUPPORTED_LOCALES)
    return best or state().settings.default_locale


def return_path() -> str:
    """Where the language switcher brings the reader back to: this page, if it answers GET."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()) and request.endpoint != "pages.language":
        return request.path
    return "/"


def select_timezone() -> str:
    return state().settings.timezone


def money(cents: int) -> str:
    """An amount of the trust's currency, kept in integer cents, written the reader's way."""
    from flask_babel import format_currency

    return format_currency(Decimal(cents) / 100, state().settings.currency)


def when(value: str | datetime | None, style: str = "medium") -> str:
    """A moment (a datetime or the ISO text the API shows) in the reader's language and zone."""
    from flask_babel import format_datetime

    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_datetime(moment, style)


def number(value: int | Decimal) -> str:
    from flask_babel import format_decimal

    return format_decimal(value)


def current_language() -> str:
    return str(get_locale() or state().settings.default_locale)


def fallback_order(language: str) -> tuple[str, ...]:
    """Languages to try for metadata: the reader's, then the trust's default, then any."""
    default = state().settings.default_locale
    return tuple(dict.fromkeys((language, default, *SUPPORTED_LOCALES)))


def pick_language(values: Mapping[str, str]) -> tuple[str, str | None]:
    """(text, language it is in) for a language map; the language is None if nothing exists."""
    for lang in fallback_order(current_language()):
        if values.get(lang):
            return values[lang], lang
    for lang, text in values.items():
        if text:
            return text, lang
    return "", None
