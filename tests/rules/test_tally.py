"""The tripartite tally (invariant 4), table-driven and against a brute-force reference."""

from __future__ import annotations

from fractions import Fraction
from itertools import product
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cltd.rules.bylaws import ClassRule, Comparison, DecisionRule, ProposalKind
from cltd.rules.codes import Code
from cltd.rules.tally import Ballot, ClassCount, count_ballots, settled_outcome, tally

CLASSES = ("contributor", "community", "public")
HALF = ClassRule(Fraction(1, 2), Fraction(1, 2), Comparison.GREATER)


def rule(per_class: ClassRule = HALF) -> DecisionRule:
    return DecisionRule(
        ProposalKind.TRANSFER, 14, MappingProxyType(dict.fromkeys(CLASSES, per_class))
    )


def test_the_tripartite_counterexample_is_rejected(bylaws) -> None:  # type: ignore[no-untyped-def]
    """9 seats, 3 per class: contributors and community all yes, the public all no. Six of nine
    is a plain majority, and the proposal must still be rejected."""
    transfer = bylaws.decisions[ProposalKind.TRANSFER]
    ballots = (
        [("contributor", Ballot.YES)] * 3
        + [("community", Ballot.YES)] * 3
        + [("public", Ballot.NO)] * 3
    )
    result = tally(transfer, count_ballots(dict.fromkeys(CLASSES, 3), ballots))
    assert not result.passed
    assert [r.passed for r in result.classes] == [True, True, False]
    assert result.classes[2].code == Code.TALLY_THRESHOLD_NOT_MET


def test_lifting_the_lock_needs_two_thirds_in_every_class(bylaws) -> None:  # type: ignore[no-untyped-def]
    lift = bylaws.decisions[ProposalKind.LIFT_LOCK]
    two_of_three = {c: ClassCount(3, yes=2, no=1) for c in CLASSES}
    assert tally(lift, two_of_three).passed
    short = {**two_of_three, "public": ClassCount(3, yes=1, no=2)}
    assert not tally(lift, short).passed


@pytest.mark.parametrize(
    ("count", "per_class", "passed", "code"),
    [
        (ClassCount(4, yes=2, no=0), HALF, True, None),  # quorum exactly met (2 of 4 ≥ 1/2)
        (ClassCount(4, yes=1, no=0), HALF, False, Code.TALLY_QUORUM_NOT_MET),  # one short
        (ClassCount(4, yes=1, no=1), HALF, False, Code.TALLY_THRESHOLD_NOT_MET),  # a tie, >
        (
            ClassCount(4, yes=1, no=1),
            ClassRule(Fraction(1, 2), Fraction(1, 2), Comparison.AT_LEAST),
            True,
            None,
        ),  # a tie passes when the bylaws say ≥
        (ClassCount(4, yes=1, abstain=1), HALF, True, None),  # abstentions count for turnout
        (ClassCount(4, abstain=4), HALF, False, Code.TALLY_THRESHOLD_NOT_MET),  # all abstain
        (ClassCount(3), HALF, False, Code.TALLY_QUORUM_NOT_MET),  # nobody voted
        (ClassCount(0), HALF, False, Code.TALLY_QUORUM_NOT_MET),  # an empty class decides nothing
        (
            ClassCount(3, yes=2, no=1),
            ClassRule(Fraction(1, 2), Fraction(2, 3), Comparison.AT_LEAST),
            True,
            None,
        ),  # exactly two thirds
        (
            ClassCount(3, yes=2, no=1),
            ClassRule(Fraction(1, 2), Fraction(2, 3), Comparison.GREATER),
            False,
            Code.TALLY_THRESHOLD_NOT_MET,
        ),
        (
            ClassCount(3, yes=3),
            ClassRule(Fraction(1), Fraction(1), Comparison.AT_LEAST),
            True,
            None,
        ),
    ],
)
def test_one_class_edge_cases(
    count: ClassCount, per_class: ClassRule, passed: bool, code: Code | None
) -> None:
    counts = {c: ClassCount(3, yes=3) for c in CLASSES} | {"public": count}
    result = tally(rule(per_class) if per_class is not HALF else rule(), counts)
    public = result.classes[2]
    assert (public.passed, public.code) == (passed, code)
    assert result.passed is passed


def test_an_impossible_count_is_refused() -> None:
    with pytest.raises(ValueError):
        tally(rule(), {c: ClassCount(2, yes=3) for c in CLASSES})


def brute_force(per_class: dict[str, ClassRule], ballots: dict[str, list[str]], seats: int) -> bool:
    """Reference: count by hand, in floating-free integer arithmetic, class by class."""
    for member_class, class_rule in per_class.items():
        cast = ballots[member_class]
        yes, no = cast.count("yes"), cast.count("no")
        q, t = class_rule.quorum, class_rule.threshold
        if len(cast) * q.denominator < q.numerator * seats or seats == 0:
            return False
        if yes + no == 0:
            return False
        lhs, rhs = yes * t.denominator, t.numerator * (yes + no)
        if not (lhs >= rhs if class_rule.comparison == Comparison.AT_LEAST else lhs > rhs):
            return False
    return True


fractions = st.builds(Fraction, st.integers(0, 12), st.integers(1, 12)).filter(lambda f: f <= 1)


@given(
    seats=st.integers(0, 7),
    quorums=st.lists(fractions, min_size=3, max_size=3),
    thresholds=st.lists(fractions.filter(lambda f: f > 0), min_size=3, max_size=3),
    comparisons=st.lists(st.sampled_from(list(Comparison)), min_size=3, max_size=3),
    data=st.data(),
)
def test_the_tally_agrees_with_a_brute_force_count(
    seats, quorums, thresholds, comparisons, data
) -> None:  # type: ignore[no-untyped-def]
    per_class = {
        c: ClassRule(q, t, k)
        for c, q, t, k in zip(CLASSES, quorums, thresholds, comparisons, strict=True)
    }
    ballots = {
        c: data.draw(st.lists(st.sampled_from(["yes", "no", "abstain"]), max_size=seats))
        for c in CLASSES
    }
    decision = DecisionRule(ProposalKind.TRANSFER, 14, MappingProxyType(per_class))
    counts = count_ballots(
        dict.fromkeys(CLASSES, seats), [(c, Ballot(b)) for c in CLASSES for b in ballots[c]]
    )
    assert tally(decision, counts).passed is brute_force(per_class, ballots, seats)


def test_every_ballot_combination_of_a_small_board_matches_the_reference() -> None:
    """All 4^6 ways two seats per class can vote (or not), under the default rule."""
    options = ["yes", "no", "abstain", None]
    for combo in product(options, repeat=6):
        ballots = {c: [b for b in combo[i * 2 : i * 2 + 2] if b] for i, c in enumerate(CLASSES)}
        counts = count_ballots(
            dict.fromkeys(CLASSES, 2), [(c, Ballot(b)) for c in CLASSES for b in ballots[c]]
        )
        assert tally(rule(), counts).passed is brute_force(dict.fromkeys(CLASSES, HALF), ballots, 2)


def every_completion(ballots: dict[str, list[str]], remaining: dict[str, int]):  # type: ignore[no-untyped-def]
    """Reference for the early close: every way the seats still to vote could vote or not."""
    per_class = []
    for c in CLASSES:
        options = [
            ballots[c] + list(extra)
            for n in range(remaining[c] + 1)
            for extra in product(["yes", "no", "abstain"], repeat=n)
        ]
        per_class.append(options)
    for combo in product(*per_class):
        yield dict(zip(CLASSES, combo, strict=True))


@settings(deadline=None)  # the reference enumerates every completion: slow by design
@given(
    seats=st.integers(1, 3),
    quorums=st.lists(fractions, min_size=3, max_size=3),
    thresholds=st.lists(fractions.filter(lambda f: f > 0), min_size=3, max_size=3),
    comparisons=st.lists(st.sampled_from(list(Comparison)), min_size=3, max_size=3),
    data=st.data(),
)
def test_an_early_close_happens_exactly_when_no_remaining_ballot_can_change_the_outcome(
    seats, quorums, thresholds, comparisons, data
) -> None:  # type: ignore[no-untyped-def]
    per_class = {
        c: ClassRule(q, t, k)
        for c, q, t, k in zip(CLASSES, quorums, thresholds, comparisons, strict=True)
    }
    ballots = {
        c: data.draw(st.lists(st.sampled_from(["yes", "no", "abstain"]), max_size=seats))
        for c in CLASSES
    }
    # Some seats that have not voted were vacant at the opening: they can never vote.
    # At most two seats still to vote per class keeps the joint enumeration small (13³ cases).
    remaining = {c: data.draw(st.integers(0, min(2, seats - len(ballots[c])))) for c in CLASSES}
    decision = DecisionRule(ProposalKind.TRANSFER, 14, MappingProxyType(per_class))
    counts = count_ballots(
        dict.fromkeys(CLASSES, seats), [(c, Ballot(b)) for c in CLASSES for b in ballots[c]]
    )
    outcomes = {
        brute_force(per_class, completed, seats)
        for completed in every_completion(ballots, remaining)
    }
    expected = outcomes.pop() if len(outcomes) == 1 else None
    assert settled_outcome(decision, counts, remaining) is expected


def test_the_counterexample_closes_as_soon_as_two_public_seats_say_no() -> None:
    counts = count_ballots(
        dict.fromkeys(CLASSES, 3),
        [("contributor", Ballot.YES)] * 3
        + [("community", Ballot.YES)] * 3
        + [("public", Ballot.NO)] * 2,
    )
    remaining = {"contributor": 0, "community": 0, "public": 1}
    assert settled_outcome(rule(), counts, remaining) is False
    one_no = count_ballots(
        dict.fromkeys(CLASSES, 3),
        [("contributor", Ballot.YES)] * 3
        + [("community", Ballot.YES)] * 3
        + [("public", Ballot.NO)],
    )
    assert settled_outcome(rule(), one_no, {**remaining, "public": 2}) is None
