"""Invariant 3: custody changes in exactly one function. No other module of cltd may mark an
asset transferred or retired, unlock it, or delete it; this test reads the whole package."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent.parent / "cltd"
ALLOWED = {PACKAGE / "services" / "custody.py", PACKAGE / "models" / "assets.py"}
CUSTODY_CHANGES = re.compile(
    r"AssetStatus\.(TRANSFERRED|RETIRED)|\.locked\s*=|delete\(\s*Asset\b|session\.delete\(\s*asset"
    r"|status\s*=\s*[\"'](transferred|retired)[\"']"
)


def test_only_custody_changes_custody() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in PACKAGE.rglob("*.py")
        if path not in ALLOWED and "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if CUSTODY_CHANGES.search(line)
    ]
    assert not offenders, "custody changed outside services/custody.py:\n" + "\n".join(offenders)


def test_the_pattern_sees_a_change_when_there_is_one() -> None:
    """Guards the test above against a pattern that matches nothing."""
    source = (PACKAGE / "services" / "custody.py").read_text(encoding="utf-8")
    assert len(CUSTODY_CHANGES.findall(source)) >= 3
