"""`cltd peers add | list | sync` against a live peer trust on loopback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.support import cltd
from tests.federation.conftest import LiveTrust


@pytest.fixture
def steward_trust(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    for name in ("CLTD_DATA_DIR", "CLTD_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLTD_CLI_LOCALE", "en")
    monkeypatch.setenv("CLTD_ALLOW_LOOPBACK_PEERS", "true")
    data_dir = tmp_path / "b"
    assert cltd(capsys, "--data-dir", data_dir, "init", "--name", "B Trust").code == 0
    return data_dir


def test_a_steward_pins_lists_and_syncs_a_peer(
    start_trust: Callable[[str], LiveTrust],
    steward_trust: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a = start_trust("A Trust")
    a.add_asset("survey")
    a.add_asset("harvests")
    wrong = cltd(capsys, "--data-dir", steward_trust, "peers", "add", a.url, "--key", "z6MkWrong")
    assert "not the key you gave" in wrong.assert_one_error_line()
    unsure = cltd(capsys, "--data-dir", steward_trust, "peers", "add", a.url)
    assert "--yes" in unsure.assert_one_error_line()  # no terminal to ask on
    added = cltd(capsys, "--data-dir", steward_trust, "peers", "add", a.url, "--yes")
    assert added.code == 0, added.err
    assert "Key fingerprint:" in added.out and "Pinned A Trust" in added.out
    again = cltd(capsys, "--data-dir", steward_trust, "peers", "add", a.url, "--yes")
    again.assert_one_error_line()
    synced = cltd(capsys, "--data-dir", steward_trust, "peers", "sync")
    assert synced.code == 0, synced.err
    assert "A Trust: 1 pages, 2 datasets updated." in synced.out
    listed = cltd(capsys, "--data-dir", steward_trust, "peers", "list")
    assert "2 datasets; no error" in listed.out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("peers", "add", "ftp://example.org", "--yes"), "address"),
        (("peers", "add", "http://127.0.0.1:9", "--yes"), "127.0.0.1:9"),
        (("peers", "add", "http://169.254.169.254", "--yes"), "169.254.169.254"),
        (("peers", "sync", "nobody"), "no such peer"),
    ],
)
def test_bad_peer_commands_are_one_line(
    steward_trust: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    line = cltd(capsys, "--data-dir", steward_trust, *args).assert_one_error_line()
    assert expected in line
