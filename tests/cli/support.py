"""Running `cltd` in-process the way the console script does, and looking at what it wrote."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from cltd.cli import main
from cltd.config import DATABASE_FILE


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()

    def assert_one_error_line(self, code: int | None = 2) -> str:
        """Exit CODE (None: any failure) with exactly one line on stderr, no traceback."""
        if code is None:
            assert self.code != 0, (self.code, self.out, self.err)
        else:
            assert self.code == code, (self.code, self.out, self.err)
        assert len(self.err_lines) == 1, self.err
        assert self.err.endswith("\n")
        assert "Traceback" not in self.err + self.out
        return self.err_lines[0]


def cltd(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Run:
    capsys.readouterr()
    escaped: Exception | None = None
    try:
        code = main([str(a) for a in args])
    except Exception as error:  # what the console script would show as a traceback
        escaped = error
    if escaped is not None:
        command = " ".join(map(str, args))
        pytest.fail(f"`cltd {command}` ends in a traceback: {escaped!r}", pytrace=False)
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def database_of(data_dir: Path) -> Path:
    return data_dir / DATABASE_FILE


def query(data_dir: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(database_of(data_dir)) as connection:
        rows = connection.execute(sql, params).fetchall()
    connection.close()
    return rows


def execute(data_dir: Path, sql: str, *params: object) -> None:
    connection = sqlite3.connect(database_of(data_dir))
    try:
        with connection:
            connection.execute(sql, params)
    finally:
        connection.close()


def member_emails(data_dir: Path) -> list[str]:
    return [str(row[0]) for row in query(data_dir, "SELECT email FROM members ORDER BY id")]
