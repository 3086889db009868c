"""CLI tests run `cltd` in-process against a trust initialised in tmp_path (SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import cltd


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CLTD_* setting leaks in from the shell; messages in English; nothing lands in the repo."""
    import os

    for name in list(os.environ):
        if name.startswith("CLTD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CLTD_CLI_LOCALE", "en")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def trust(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A freshly initialised trust's data directory."""
    data_dir = tmp_path / "trust"
    run = cltd(capsys, "--data-dir", data_dir, "init", "--name", "CLI Test Trust")
    assert run.code == 0, run.err
    return data_dir
