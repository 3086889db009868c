"""The bylaws: three classes, a complete rule per proposal kind and class, a higher bar to lift
the asset lock, and a BylawsError naming the file and key for every bad input."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from cltd.resources import default_bylaws_path
from cltd.rules.bylaws import (
    Acceptor,
    Bylaws,
    BylawsError,
    ClassRule,
    Comparison,
    ProposalKind,
    TieBreak,
    TransferRules,
    load_bylaws,
    parse_bylaws,
)
from cltd.rules.purposes import PurposeTaxonomy

BAD = Path(__file__).parents[1] / "fixtures" / "bylaws" / "bad"
HALF, TWO_THIRDS = Fraction(1, 2), Fraction(2, 3)


@pytest.fixture(scope="module")
def shipped() -> Bylaws:
    return load_bylaws(default_bylaws_path())


@pytest.fixture(scope="module")
def shipped_text() -> str:
    return default_bylaws_path().read_text(encoding="utf-8")


def parse(text: str, taxonomy: PurposeTaxonomy) -> Bylaws:
    return parse_bylaws(text, source="gov/bylaws.toml", taxonomy=taxonomy)


def test_shipped_bylaws_load(shipped: Bylaws) -> None:
    assert shipped.version == "2026.1"
    assert shipped.class_keys() == ("contributor", "community", "public")
    assert [member_class.seats for member_class in shipped.classes] == [3, 3, 3]
    assert set(shipped.decisions) == set(ProposalKind)
    assert shipped.asset_lock.locked_by_default and shipped.asset_lock.recipient_must_be_locked
    assert shipped.access_grant_days == 365
    assert shipped.election_tie_break is TieBreak.LOT
    assert shipped.votes_public is False
    assert "scientific-research" in shipped.taxonomy


@pytest.mark.parametrize(
    ("kind", "days", "rule"),
    [
        (ProposalKind.TRANSFER, 14, ClassRule(HALF, HALF, Comparison.GREATER)),
        (ProposalKind.LICENCE, 7, ClassRule(HALF, HALF, Comparison.GREATER)),
        (ProposalKind.RETIRE, 14, ClassRule(HALF, HALF, Comparison.GREATER)),
        (ProposalKind.LIFT_LOCK, 14, ClassRule(HALF, TWO_THIRDS, Comparison.AT_LEAST)),
        (ProposalKind.AMEND_BYLAWS, 14, ClassRule(HALF, TWO_THIRDS, Comparison.AT_LEAST)),
    ],
)
def test_shipped_rule_per_kind_in_every_class(
    shipped: Bylaws, kind: ProposalKind, days: int, rule: ClassRule
) -> None:
    decision = shipped.decisions[kind]
    assert (decision.kind, decision.voting_days) == (kind, days)
    assert dict(decision.per_class) == dict.fromkeys(shipped.class_keys(), rule)


def test_member_class_lookup_and_names(shipped: Bylaws) -> None:
    public = shipped.member_class("public")
    assert public.name("fr_FR") == "Représentants du public"
    assert public.name("de") == "Public representatives"
    with pytest.raises(KeyError):
        shipped.member_class("tenants")


def test_digest_names_both_files_exactly(shipped: Bylaws, shipped_text: str) -> None:
    taxonomy_bytes = (default_bylaws_path().parent / "purposes.toml").read_bytes()
    expected = hashlib.sha256(default_bylaws_path().read_bytes() + b"\n" + taxonomy_bytes)
    assert shipped.digest == expected.hexdigest()
    again = parse_bylaws(
        shipped_text, source="x", taxonomy=shipped.taxonomy, taxonomy_bytes=taxonomy_bytes
    )
    assert again.digest == shipped.digest
    changed = parse_bylaws(
        shipped_text,
        source="x",
        taxonomy=shipped.taxonomy,
        taxonomy_bytes=taxonomy_bytes + b"# amended\n",
    )
    assert changed.digest != shipped.digest


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ('"2/3"', TWO_THIRDS),
        ('" 3/4 "', Fraction(3, 4)),
        ("0.5", HALF),
        ("0.1", Fraction(1, 10)),  # exact, not the float's binary expansion
        ('"0.6"', Fraction(3, 5)),
        ("1", Fraction(1)),
    ],
)
def test_fractions_are_exact(
    shipped: Bylaws, shipped_text: str, written: str, value: Fraction
) -> None:
    text = shipped_text.replace("[decisions.retire]", f"[decisions.retire]\nquorum = {written}")
    assert (
        parse(text, shipped.taxonomy).decisions[ProposalKind.RETIRE].per_class["community"].quorum
        == value
    )


def test_per_class_override_changes_that_class_only(shipped: Bylaws, shipped_text: str) -> None:
    text = shipped_text + '\n[decisions.retire.classes.contributor]\nthreshold = "3/4"\n'
    rules = parse(text, shipped.taxonomy).decisions[ProposalKind.RETIRE].per_class
    assert rules["contributor"] == ClassRule(HALF, Fraction(3, 4), Comparison.GREATER)
    assert rules["community"] == rules["public"] == ClassRule(HALF, HALF, Comparison.GREATER)


def bad_fixtures() -> list[Path]:
    return sorted(path for path in BAD.glob("*.toml") if not path.name.endswith(".purposes.toml"))


def test_there_is_a_fixture_per_class_of_bad_input() -> None:
    assert len(bad_fixtures()) >= 24


@pytest.mark.parametrize("path", bad_fixtures(), ids=lambda path: path.stem)
def test_bad_fixture_names_file_and_key(path: Path) -> None:
    expected_key = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect-key: ")
    with pytest.raises(BylawsError) as caught:
        load_bylaws(path)
    error = caught.value
    assert error.key == expected_key
    in_taxonomy = expected_key.startswith("purposes.")
    assert error.file == str(path.parent / f"{path.name}.purposes.toml" if in_taxonomy else path)
    assert path.name in str(error)
    assert str(error) == f"{error.file}: {error.key}: {error.problem}"
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('version = "2026.1"\n', "", "version"),
        ('version = "2026.1"', "version = 2026.1", "version"),
        ('title = "Community Data Trust: default bylaws"', 'title = " "', "title"),
        ('file = "purposes.toml"', 'file = "/etc/purposes.toml"', "taxonomy.file"),
        ('file = "purposes.toml"', 'path = "purposes.toml"', "taxonomy.path"),
        ("[classes.contributor]", "[classes.Contributor]", "classes.Contributor"),
        ("seats = 3", "seats = true", "classes.contributor.seats"),
        ("seats = 3", "seats = -1", "classes.contributor.seats"),
        (
            'name = { en = "Contributors"',
            'name = { English = "x", en = "Contributors"',
            "classes.contributor.name.English",
        ),
        (
            'description.en = "Members whose',
            'description.EN = "x"\ndescription.en = "Members whose',
            "classes.contributor.description.EN",
        ),
        ('quorum = "1/2"', "quorum = 1.5", "decisions.default.quorum"),
        ('quorum = "1/2"', 'quorum = "1/0"', "decisions.default.quorum"),
        ('quorum = "1/2"', "quorum = [1, 2]", "decisions.default.quorum"),
        ('quorum = "1/2"', "quorum = nan", "decisions.default.quorum"),
        ('threshold = "1/2"', "threshold = 0", "decisions.default.threshold"),
        ('comparison = "greater"', "", "decisions.default.comparison"),
        ("voting_days = 14", "voting_days = 0", "decisions.default.voting_days"),
        ("[decisions.transfer]", "[decisions.transfer]\nvoters = 3", "decisions.transfer.voters"),
        (
            "[decisions.retire]  ",
            "[decisions.retire.classes.public]\nvoting_days = 3\n#",
            "decisions.retire.classes.public.voting_days",
        ),
        (
            "[decisions.lift_lock]           # the asset lock is lifted: must be a higher bar "
            "than a "
            'transfer\nthreshold = "2/3"',
            '[decisions.lift_lock]\nquorum = "1/3"\nthreshold = "2/3"',
            "decisions.lift_lock.quorum",
        ),
        (
            "[decisions.amend_bylaws]",
            '[decisions.lift_lock.classes.public]\nthreshold = "1/2"\n\n[decisions.amend_bylaws]',
            "decisions.lift_lock.classes.public.threshold",
        ),
        ("locked_by_default = true", 'locked_by_default = "yes"', "asset_lock.locked_by_default"),
        ("grant_days = 365", "grant_days = 0", "access.grant_days"),
        ('tie_break = "lot"', 'tie_break = "coin"', "elections.tie_break"),
        ("public = false", "public = 0", "votes.public"),
        ("[votes]", "[votes]\nsecret = true", "votes.secret"),
        ('incoming = "board"', 'incoming = "members"', "transfers.incoming"),
        ("offer_days = 30", "offer_days = 0", "transfers.offer_days"),
        ("offer_days = 30", 'offer_days = "a month"', "transfers.offer_days"),
        ("[transfers]", "[transfers]\nrecipient = true", "transfers.recipient"),
    ],
)
def test_bad_value_names_key(
    shipped: Bylaws, shipped_text: str, old: str, new: str, key: str
) -> None:
    assert old in shipped_text
    with pytest.raises(BylawsError) as caught:
        parse(shipped_text.replace(old, new, 1), shipped.taxonomy)
    assert (caught.value.file, caught.value.key) == ("gov/bylaws.toml", key)
    assert "\n" not in str(caught.value)


def test_a_proposal_kind_must_be_a_table(shipped: Bylaws, shipped_text: str) -> None:
    text = shipped_text.replace("[decisions.retire]  ", "#").replace(
        "[decisions.default]", '[decisions]\nretire = "later"\n\n[decisions.default]'
    )
    with pytest.raises(BylawsError) as caught:
        parse(text, shipped.taxonomy)
    assert caught.value.key == "decisions.retire"


def test_extra_languages_are_kept(shipped: Bylaws, shipped_text: str) -> None:
    text = shipped_text.replace(
        'name = { en = "Contributors"', 'name = { pt-BR = "Contribuintes", en = "Contributors"'
    )
    contributor = parse(text, shipped.taxonomy).member_class("contributor")
    assert contributor.name("pt_BR") == "Contribuintes"
    assert contributor.name("pt") == "Contributors"


def test_threshold_error_says_between_zero_and_one() -> None:
    with pytest.raises(BylawsError) as caught:
        load_bylaws(BAD / "threshold-above-one.toml")
    assert "must be between 0 and 1" in caught.value.problem


def test_missing_bylaws_file(tmp_path: Path) -> None:
    with pytest.raises(BylawsError) as caught:
        load_bylaws(tmp_path / "bylaws.toml")
    assert (caught.value.file, caught.value.key) == (str(tmp_path / "bylaws.toml"), "<file>")


def test_error_is_a_value_error_on_one_line() -> None:
    error = BylawsError("a.toml", "classes", "first\nsecond")
    assert isinstance(error, ValueError)
    assert str(error) == "a.toml: classes: first second"


def test_rules_import_no_framework() -> None:
    code = (
        "import sys, cltd.rules.bylaws, cltd.rules.purposes; "
        "print(sorted(m for m in ('flask', 'sqlalchemy', 'cryptography') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_transfers_between_trusts_default_to_the_board(shipped: Bylaws, shipped_text: str) -> None:
    """[transfers] is optional: without it, the board accepts offers, open for 30 days."""
    assert shipped.transfers == TransferRules(Acceptor.BOARD, 30)
    start = shipped_text.index("[transfers]")
    end = shipped_text.index("# --- Consumers")
    without = parse(shipped_text[:start] + shipped_text[end:], shipped.taxonomy)
    assert without.transfers == TransferRules(Acceptor.BOARD, 30)
    steward = parse(
        shipped_text.replace('incoming = "board"', 'incoming = "steward"').replace(
            "offer_days = 30", "offer_days = 7"
        ),
        shipped.taxonomy,
    )
    assert steward.transfers == TransferRules(Acceptor.STEWARD, 7)
    assert steward.digest != shipped.digest
    assert ProposalKind.ACCEPT_ASSET in shipped.decisions
