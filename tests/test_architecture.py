"""The layers hold (rules <- services <- web and CLI), the rules stay pure, and lint is clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FRAMEWORKS = ("flask", "sqlalchemy", "authlib", "pyld", "cryptography", "werkzeug", "psycopg")


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_import_contracts_hold() -> None:
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_nothing() -> None:
    result = _run(str(BIN / "ruff"), "check", "cltd", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "module", sorted(p.stem for p in (ROOT / "cltd" / "rules").glob("*.py") if p.stem != "__init__")
)
def test_a_rule_module_imports_no_framework(module: str) -> None:
    probe = (
        f"import sys, cltd.rules.{module}; "
        f"print(','.join(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    )
    result = _run(sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_importing_cltd_starts_nothing() -> None:
    result = _run(
        sys.executable,
        "-c",
        "import sys, cltd; print('flask' in sys.modules, 'sqlalchemy' in sys.modules)",
    )
    assert result.stdout.strip() == "False False"
