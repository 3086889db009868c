"""Translated text for the steward's terminal, in the language of their environment."""

from __future__ import annotations

import os
from functools import cache

from babel.support import NullTranslations, Translations

from cltd.config import SUPPORTED_LOCALES
from cltd.resources import translations_dir
from cltd.rules.purposes import BylawsError


def terminal_locale(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ) if env is None else env
    for name in ("CLTD_CLI_LOCALE", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        for candidate in value.split(":"):
            code = candidate.split(".")[0].split("_")[0].lower()
            if code in SUPPORTED_LOCALES:
                return code
    return "en"


@cache
def _translations(locale: str) -> NullTranslations:
    return Translations.load(str(translations_dir()), [locale], "messages")


def _(message: str, **params: object) -> str:
    text = _translations(terminal_locale()).gettext(message)
    return text % params if params else text


def governance_problem(error: BylawsError) -> str:
    """One line, in the steward's language: FILE: key: what is wrong."""
    params = {k: _(v) if isinstance(v, str) else v for k, v in error.params.items()}
    problem = _(error.template, **params) if params else _(error.template)
    return " ".join(f"{error.file}: {error.key}: {problem}".splitlines())
