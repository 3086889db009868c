"""A steward reads what is wrong with a bylaws file in their own language (CLTD_CLI_LOCALE)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import cltd

BAD = Path(__file__).resolve().parent.parent / "fixtures" / "bylaws" / "bad"


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", "must define exactly three member classes, found 2"),
        ("es", "debe definir exactamente tres clases de miembros; hay 2"),
        ("fr", "doit définir exactement trois catégories de membres"),
    ],
)
def test_a_bad_bylaws_file_is_explained_in_the_stewards_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], locale: str, words: str
) -> None:
    monkeypatch.setenv("CLTD_CLI_LOCALE", locale)
    run = cltd(capsys, "bylaws", "check", BAD / "two-classes.toml")
    assert run.code == 2
    lines = run.err.strip().splitlines()
    assert len(lines) == 1
    assert "two-classes.toml: classes: " in lines[0] and words in lines[0]


def test_phrases_handed_down_are_translated_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLTD_CLI_LOCALE", "es")
    run = cltd(capsys, "bylaws", "check", BAD / "wrong-type.toml")
    assert run.code == 2
    assert "debe ser un número entero" in run.err or "debe ser" in run.err
    assert "must be" not in run.err
