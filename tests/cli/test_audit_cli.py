"""`cltd audit verify`: 0 on an intact log; exit 1 naming the first entry that was tampered with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cltd.cli import cli
from tests.cli.support import cltd, execute, query

CONSOLE_SCRIPT = Path(sys.executable).with_name("cltd")


def _grow(trust: Path, capsys: pytest.CaptureFixture[str], members: int = 3) -> None:
    """Add members so the log has entries after the founding ones (5 entries for 3 members)."""
    for n in range(members):
        run = cltd(
            capsys,
            "--data-dir",
            trust,
            "members",
            "add",
            "--email",
            f"m{n}@example.org",
            "--name",
            f"Member {n}",
            "--class",
            "community",
            "--password",
            "a long first password",
        )
        assert run.code == 0, run.err


def test_verify_an_intact_log(trust: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _grow(trust, capsys)
    run = cltd(capsys, "--data-dir", trust, "audit", "verify")
    assert run.code == 0, run.err
    assert "5 entries" in run.out
    assert run.err == ""


def test_verify_does_not_change_the_log(trust: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = query(trust, "SELECT seq, hash FROM audit_entries ORDER BY seq")
    cltd(capsys, "--data-dir", trust, "audit", "verify")
    assert query(trust, "SELECT seq, hash FROM audit_entries ORDER BY seq") == before


@pytest.mark.parametrize(
    ("tamper", "seq"),
    [
        ("UPDATE audit_entries SET actor = 'x' WHERE seq = 2", 2),
        ("UPDATE audit_entries SET details = '{}' WHERE seq = 4", 4),
        ("UPDATE audit_entries SET at = '2020-01-01 00:00:00.000000' WHERE seq = 3", 3),
        ("DELETE FROM audit_entries WHERE seq = 3", 3),
        ("DELETE FROM audit_entries WHERE seq = 5", 5),
    ],
    ids=["actor of 2", "details of 4", "time of 3", "3 removed", "tail removed"],
)
def test_verify_names_the_tampered_entry_through_main(
    trust: Path, capsys: pytest.CaptureFixture[str], tamper: str, seq: int
) -> None:
    """What `cltd audit verify` returns to the shell (main() is the console script).

    Fails today: cltd.cli.main() discards the exit code that click returns in
    standalone_mode=False when a command calls ctx.exit(1), and returns 0.
    """
    _grow(trust, capsys)
    execute(trust, tamper)
    run = cltd(capsys, "--data-dir", trust, "audit", "verify")
    assert f"entry {seq}" in run.out + run.err
    assert len(run.err_lines) == 1, run.err
    assert run.code == 1, "a tampered audit log exits 0"


def test_verify_names_entry_2_after_the_briefed_tampering(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(trust, "UPDATE audit_entries SET actor='x' WHERE seq=2")
    run = cltd(capsys, "--data-dir", trust, "audit", "verify")
    assert "entry 2" in run.err
    assert "changed after it was written" in run.err
    assert run.code == 1, "a tampered audit log exits 0"


def test_verify_exit_code_of_the_command_itself(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command (run the way click runs it standalone) does ask for exit 1."""
    execute(trust, "UPDATE audit_entries SET actor='x' WHERE seq=2")
    result = CliRunner().invoke(cli, ["--data-dir", str(trust), "audit", "verify"])
    assert result.exit_code == 1
    assert "entry 2" in result.output


def test_verify_exit_code_of_the_console_script(trust: Path) -> None:
    """What a cron job or a monitoring script sees from the real `cltd` process."""
    assert CONSOLE_SCRIPT.is_file()
    intact = subprocess.run(
        [str(CONSOLE_SCRIPT), "--data-dir", str(trust), "audit", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert intact.returncode == 0, intact.stderr
    execute(trust, "UPDATE audit_entries SET actor='x' WHERE seq=2")
    tampered = subprocess.run(
        [str(CONSOLE_SCRIPT), "--data-dir", str(trust), "audit", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "entry 2" in tampered.stderr
    assert tampered.returncode == 1, "a tampered audit log exits 0"


def test_verify_without_a_trust_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cltd(capsys, "--data-dir", tmp_path / "nothing-here", "audit", "verify")
    run.assert_one_error_line()
