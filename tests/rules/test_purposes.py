"""The purpose taxonomy: consent covers a purpose and its descendants, nothing else.

Invariant 1 (purpose limitation) relies on `covers`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cltd.resources import governance_dir
from cltd.rules.purposes import Access, BylawsError, PurposeTaxonomy, load_purposes, parse_purposes

DPV = "https://w3id.org/dpv#"


def purpose(key: str, iri: str, access: str = "open", parent: str | None = None) -> str:
    parent_line = f'parent = "{parent}"\n' if parent else ""
    return (
        f'[purposes.{key}]\niri = "{iri}"\n{parent_line}access = "{access}"\n'
        f'name = {{ en = "{key} en", es = "{key} es", fr = "{key} fr" }}\n'
        f'description = {{ en = "{key} d-en", es = "{key} d-es", fr = "{key} d-fr" }}\n\n'
    )


# a ─┬─ b ── c        e
#    └─ d
TREE = (
    purpose("a", DPV + "A")
    + purpose("b", DPV + "B", parent="a")
    + purpose("c", DPV + "C", "board-review", parent="b")
    + purpose("d", DPV + "D", parent="a")
    + purpose("e", DPV + "E", "prohibited")
)


@pytest.fixture(scope="module")
def tree() -> PurposeTaxonomy:
    return parse_purposes(TREE, source="tree.toml")


@pytest.mark.parametrize(
    ("consented", "requested", "expected"),
    [
        ("b", "b", True),  # the purpose itself
        ("a", "b", True),  # a child
        ("a", "c", True),  # a grandchild
        ("b", "c", True),
        ("c", "b", False),  # a parent is never covered by consent to the child
        ("c", "a", False),
        ("b", "d", False),  # nor a sibling
        ("d", "c", False),  # nor a sibling's child
        ("a", "e", False),  # nor another tree
        ("nope", "a", False),  # unknown keys cover nothing and are covered by nothing
        ("a", "nope", False),
        ("nope", "nope", False),
    ],
)
def test_covers(tree: PurposeTaxonomy, consented: str, requested: str, expected: bool) -> None:
    assert tree.covers(consented, requested) is expected


@pytest.mark.parametrize(
    ("key", "ancestors", "descendants"),
    [
        ("a", (), {"b", "c", "d"}),
        ("b", ("a",), {"c"}),
        ("c", ("b", "a"), set()),
        ("d", ("a",), set()),
        ("e", (), set()),
    ],
)
def test_ancestors_nearest_first_and_descendants(
    tree: PurposeTaxonomy, key: str, ancestors: tuple[str, ...], descendants: set[str]
) -> None:
    assert tree.ancestors(key) == ancestors
    assert tree.descendants(key) == frozenset(descendants)


def test_mapping_protocol_keeps_file_order(tree: PurposeTaxonomy) -> None:
    assert list(tree) == ["a", "b", "c", "d", "e"]
    assert len(tree) == 5
    assert "c" in tree and "z" not in tree
    assert tree["c"].parent == "b" and tree["c"].access is Access.BOARD_REVIEW
    assert tree.get("z") is None
    assert tree.roots() == ("a", "e")
    with pytest.raises(KeyError):
        tree.ancestors("z")
    with pytest.raises(TypeError):
        tree.purposes["z"] = tree["a"]  # type: ignore[index]


def test_by_iri(tree: PurposeTaxonomy) -> None:
    found = tree.by_iri(DPV + "C")
    assert found is not None and found.key == "c"
    assert tree.by_iri(DPV + "Nothing") is None


@pytest.mark.parametrize(
    ("locale", "fallback", "expected"),
    [
        ("es", "en", "b es"),
        ("es_ES", "en", "b es"),
        ("fr-CA", "en", "b fr"),
        ("EN", "en", "b en"),
        ("de", "en", "b en"),
        ("de", "fr", "b fr"),
    ],
)
def test_name_per_locale(tree: PurposeTaxonomy, locale: str, fallback: str, expected: str) -> None:
    assert tree["b"].name(locale, fallback) == expected


def test_purposes_are_hashable_values(tree: PurposeTaxonomy) -> None:
    assert len({tree["a"], tree["a"], tree["b"]}) == 2


def p(key: str, **fields: str) -> str:
    """One purpose table with `fields` replacing the defaults ("" drops a field)."""
    values = {
        "iri": f'"{DPV}{key}"',
        "access": '"open"',
        "name": '{ en = "n", es = "n", fr = "n" }',
        "description": '{ en = "d", es = "d", fr = "d" }',
        **fields,
    }
    body = "".join(f"{name} = {value}\n" for name, value in values.items() if value)
    return f"[purposes.{key}]\n{body}\n"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "purposes"),
        ("purposes = {}\n", "purposes"),
        ('version = "1"\n' + p("a"), "version"),
        (p("a", parent='"b"'), "purposes.a.parent"),  # no such parent
        (p("a", parent='"a"'), "purposes.a.parent"),  # itself
        (p("a", parent='"b"') + p("b", parent='"a"'), "purposes.a.parent"),  # a → b → a
        (p("x", parent='"a"') + p("a", parent='"b"') + p("b", parent='"a"'), "purposes.a.parent"),
        (p("a", access='"members-only"'), "purposes.a.access"),
        (p("a", access='"Open"'), "purposes.a.access"),
        (p("a", iri=f'"{DPV}A"') + p("b", iri=f'"{DPV}A"'), "purposes.b.iri"),  # duplicate IRI
        (p("a", iri='"dpv:A"'), "purposes.a.iri"),
        (p("a", iri='"urn:dpv:A"'), "purposes.a.iri"),
        (p("a", iri='"https://"'), "purposes.a.iri"),
        (p("a", iri='"https://w3id.org/dpv# A"'), "purposes.a.iri"),
        (p("a", iri="42"), "purposes.a.iri"),
        (p("a", iri=""), "purposes.a.iri"),
        (p("a", parent="1"), "purposes.a.parent"),
        (p("a", name='{ en = "n", es = "n" }'), "purposes.a.name.fr"),
        (p("a", name='{ en = "n", es = "n", fr = " " }'), "purposes.a.name.fr"),
        (p("a", name='{ en = "n", es = "n", fr = "n", English = "n" }'), "purposes.a.name.English"),
        (p("a", name='"n"'), "purposes.a.name"),
        (p("a", description=""), "purposes.a.description"),
        (p("a", colour='"red"'), "purposes.a.colour"),
        (p("Bad_Key"), "purposes.Bad_Key"),
        (p("a", access='"prohibited"') + p("b", parent='"a"'), "purposes.b.access"),
        ("[purposes]\na = 1\n", "purposes.a"),
        ("[purposes\n", "<toml>"),
    ],
)
def test_bad_taxonomy_names_file_and_key(text: str, key: str) -> None:
    with pytest.raises(BylawsError) as caught:
        parse_purposes(text, source="gov/purposes.toml")
    assert (caught.value.file, caught.value.key) == ("gov/purposes.toml", key)
    assert str(caught.value).startswith(f"gov/purposes.toml: {key}: ")
    assert "\n" not in str(caught.value)


def test_a_prohibited_purpose_may_sit_below_an_open_one() -> None:
    taxonomy = parse_purposes(p("a") + p("b", parent='"a"', access='"prohibited"'), source="t")
    assert taxonomy["b"].access is Access.PROHIBITED


def test_missing_file_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(BylawsError) as caught:
        load_purposes(tmp_path / "absent.toml")
    assert caught.value.key == "<file>"
    assert caught.value.file == str(tmp_path / "absent.toml")
    assert caught.value.problem.startswith("cannot be read")


def test_shipped_taxonomy() -> None:
    taxonomy = load_purposes(governance_dir() / "purposes.toml")
    assert 12 <= len(taxonomy) <= 16
    for key in taxonomy:
        purpose = taxonomy[key]
        assert purpose.iri.startswith(DPV)
        assert {"en", "es", "fr"} <= purpose.names.keys() <= purpose.descriptions.keys()
    assert {key for key in taxonomy if taxonomy[key].access is Access.PROHIBITED} == {
        "marketing",
        "advertising",
        "personalised-advertising",
    }
    assert taxonomy.covers("public-benefit", "combat-climate-change")
    assert not taxonomy.covers("scientific-research", "commercial-research")
    assert taxonomy.ancestors("personalised-advertising") == ("advertising", "marketing")
    found = taxonomy.by_iri(DPV + "ScientificResearch")
    assert found is not None and found.name("fr") == "Recherche scientifique"
