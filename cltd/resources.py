"""Where the shipped governance/ and schemas/ folders are.

In a source checkout they sit at the top of the repository; in an installed wheel they are
package data under cltd/_shipped/ (see pyproject.toml). Both layouts resolve here, once.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    installed = _PACKAGE_DIR / "_shipped" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name


def governance_dir() -> Path:
    return _shipped("governance")


def schemas_dir() -> Path:
    return _shipped("schemas")


def default_bylaws_path() -> Path:
    return governance_dir() / "bylaws.toml"


def translations_dir() -> Path:
    return _PACKAGE_DIR / "translations"
