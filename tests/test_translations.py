"""Every string a person reads is translatable, and every shipped language translates it.

Extracts the message catalogue from the code and templates exactly as a developer would
(see the README), then checks each shipped language: no missing, empty or fuzzy entry, the
same %(placeholders)s, and a compiled .mo that matches its .po. Also fails when a template
holds user-facing text outside gettext.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "cltd" / "translations"
TEMPLATES = ROOT / "cltd" / "web" / "templates"
SHIPPED = ("es", "fr")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pybabel")),
            "extract",
            "-F",
            str(TRANSLATIONS / "babel.cfg"),
            "-k",
            "N_",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--omit-header",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        catalog = read_po(handle)
    return {message.id: message for message in catalog if message.id}


def test_the_code_has_messages_to_translate(extracted: dict[str, object]) -> None:
    assert "Sign in" in extracted
    assert "The email address or the password is not right." in extracted


def _key(value: object) -> object:
    """Plural entries carry a tuple (or list) of forms; make them comparable and hashable."""
    return tuple(value) if isinstance(value, list | tuple) else value


def _text(msgid: object) -> str:
    return " ".join(msgid) if isinstance(msgid, tuple | list) else str(msgid)


def _forms(string: object) -> list[str]:
    """Every translated form; the singular of a plural may drop the count (n == 1)."""
    if isinstance(string, tuple | list):
        return [" ".join(string)]
    return [str(string)]


@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_is_translated_and_none_is_fuzzy(
    language: str, extracted: dict[str, object]
) -> None:
    po_path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    problems = []
    for msgid in extracted:
        message = catalog.get(msgid)
        if message is None or not message.string:
            problems.append(f"missing: {msgid!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif any(
            set(PLACEHOLDER.findall(_text(msgid))) != set(PLACEHOLDER.findall(form))
            for form in _forms(message.string)
        ):
            problems.append(f"placeholders differ: {msgid!r}")
    assert not catalog.fuzzy, f"{po_path} has a fuzzy header"
    assert not problems, f"{language}: " + "; ".join(problems[:20])


@pytest.mark.parametrize("language", SHIPPED)
def test_compiled_catalogue_matches_its_source(language: str) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        source = {_key(m.id): _key(m.string) for m in read_po(handle) if m.id and not m.fuzzy}
    compiled = {
        _key(m.id): _key(m.string)
        for m in read_mo(io.BytesIO((folder / "messages.mo").read_bytes()))
        if m.id
    }
    assert compiled == source, "run: pybabel compile -d cltd/translations"


_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
_TAG = re.compile(r"<[^>]*>", re.S)
_ENTITY = re.compile(r"&\w+;|&#\d+;")
PROPER_NOUNS = re.compile(r"\bCLTD\b")  # the product's name reads the same in every language
_TEXT_ATTRIBUTE = re.compile(r'\b(?:title|alt|placeholder|aria-label)="([^"]*)"')


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
)
def test_templates_hold_no_text_outside_gettext(template: str) -> None:
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    without_jinja = PROPER_NOUNS.sub(" ", _JINJA.sub(" ", source))
    literals = [
        text.strip()
        for text in _ENTITY.sub(" ", _TAG.sub("\n", without_jinja)).splitlines()
        if re.search(r"[^\W\d_]", text)
    ]
    literals += [
        value for value in _TEXT_ATTRIBUTE.findall(without_jinja) if re.search(r"[^\W\d_]", value)
    ]
    assert not literals, f"{template}: text outside gettext: {literals}"
