"""Laying out a new trust's data directory: config, secret key, signing keys, bylaws."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

from cltd.adapters.keys import generate_signing_key, new_secret_key, write_private_file
from cltd.config import (
    CONFIG_FILE,
    DATABASE_FILE,
    SECRET_KEY_FILE,
    SIGNING_KEY_FILE,
    SIGNING_PUBLIC_KEY_FILE,
    Settings,
)
from cltd.resources import default_bylaws_path

BYLAWS_FILE = "bylaws.toml"
_CREATED = (CONFIG_FILE, SECRET_KEY_FILE, "keys", BYLAWS_FILE, "purposes.toml", DATABASE_FILE)


class DataDirExists(FileExistsError):
    pass


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def create_data_dir(
    data_dir: Path,
    *,
    trust_name: str,
    default_locale: str,
    timezone: str,
    database_url: str | None,
) -> list[Path]:
    """Write everything a trust needs on disk; refuse to touch a directory that has a trust.

    The directory is private to the trust's user (0700): it holds the keys and, on SQLite,
    the database with members' password hashes. Returns what it created, for undoing.
    """
    if (data_dir / SECRET_KEY_FILE).exists() or (data_dir / CONFIG_FILE).exists():
        raise DataDirExists(str(data_dir))
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    created = [data_dir / name for name in _CREATED]
    lines = [
        "# CLTD trust settings. Any CLTD_<NAME> environment variable overrides a line here.",
        f"trust_name = {_toml_string(trust_name)}",
        f"default_locale = {_toml_string(default_locale)}",
        f"timezone = {_toml_string(timezone)}",
        f"bylaws_path = {_toml_string(str(data_dir / BYLAWS_FILE))}",
    ]
    if database_url:
        lines.append(f"database_url = {_toml_string(database_url)}")
    tomllib.loads("\n".join(lines))  # what we write must read back
    (data_dir / CONFIG_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_private_file(data_dir / SECRET_KEY_FILE, new_secret_key().encode("ascii"))
    generate_signing_key(data_dir / SIGNING_KEY_FILE, data_dir / SIGNING_PUBLIC_KEY_FILE)
    _copy_default_bylaws(data_dir)
    if database_url is None:
        # SQLite makes its -wal and -shm files with the database file's mode.
        write_private_file(data_dir / DATABASE_FILE, b"")
    return created


def remove_data_dir(data_dir: Path, created: list[Path], *, keep_dir: bool) -> None:
    """Undo create_data_dir after a later step of founding failed."""
    if not keep_dir:
        shutil.rmtree(data_dir, ignore_errors=True)
        return
    for path in created:
        for candidate in (path, *path.parent.glob(path.name + "-*")):
            if candidate.is_dir():
                shutil.rmtree(candidate, ignore_errors=True)
            else:
                candidate.unlink(missing_ok=True)


def _copy_default_bylaws(data_dir: Path) -> None:
    source = default_bylaws_path()
    shutil.copyfile(source, data_dir / BYLAWS_FILE)
    # The bylaws name their taxonomy relative to themselves; bring it along.
    taxonomy = tomllib.loads(source.read_text(encoding="utf-8"))["taxonomy"]["file"]
    shutil.copyfile(source.parent / taxonomy, data_dir / taxonomy)


def bylaws_path(settings: Settings) -> Path:
    if settings.bylaws_path is not None:
        return settings.bylaws_path
    in_data_dir = settings.data_dir / BYLAWS_FILE
    return in_data_dir if in_data_dir.is_file() else default_bylaws_path()
