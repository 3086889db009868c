"""The tripartite tally (invariant 4): a proposal passes only if it passes in EACH class.

In each class, turnout is counted against the seats of that class (not against the ballots
cast overall): ballots cast (yes, no and abstain) must reach quorum × seats, and yes among
yes + no must reach the threshold, compared "at-least" (≥) or "greater" (>) as the bylaws say.
A class where nobody voted yes or no fails; a vacant seat counts as a seat that did not vote.
Exact fractions throughout, so 2/3 means two thirds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from cltd.rules.bylaws import ClassRule, Comparison, DecisionRule
from cltd.rules.codes import Code


class Ballot(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


@dataclass(frozen=True)
class ClassCount:
    seats: int
    yes: int = 0
    no: int = 0
    abstain: int = 0

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain

    @property
    def not_voted(self) -> int:
        return self.seats - self.cast


@dataclass(frozen=True)
class ClassResult:
    member_class: str
    count: ClassCount
    quorum_met: bool
    threshold_met: bool
    code: Code | None  # why the class did not pass

    @property
    def passed(self) -> bool:
        return self.code is None


@dataclass(frozen=True)
class Tally:
    classes: tuple[ClassResult, ...]

    @property
    def passed(self) -> bool:
        return bool(self.classes) and all(result.passed for result in self.classes)


def class_result(member_class: str, rule: ClassRule, count: ClassCount) -> ClassResult:
    if count.cast > count.seats or min(count.yes, count.no, count.abstain, count.seats) < 0:
        raise ValueError(f"impossible count for class {member_class}: {count}")
    quorum_met = count.seats > 0 and Fraction(count.cast) >= rule.quorum * count.seats
    decided = count.yes + count.no
    threshold_met = False
    if decided:
        share = Fraction(count.yes, decided)
        threshold_met = (
            share >= rule.threshold
            if rule.comparison == Comparison.AT_LEAST
            else share > rule.threshold
        )
    code = None
    if not quorum_met:
        code = Code.TALLY_QUORUM_NOT_MET
    elif not threshold_met:
        code = Code.TALLY_THRESHOLD_NOT_MET
    return ClassResult(member_class, count, quorum_met, threshold_met, code)


def tally(rule: DecisionRule, counts: Mapping[str, ClassCount]) -> Tally:
    """Tally a proposal under RULE; every class of the rule must have a count."""
    missing = set(rule.per_class) - set(counts)
    if missing:
        raise ValueError(f"no count for class {sorted(missing)[0]}")
    return Tally(
        tuple(
            class_result(member_class, class_rule, counts[member_class])
            for member_class, class_rule in rule.per_class.items()
        )
    )


def count_ballots(
    seats: Mapping[str, int], ballots: Iterable[tuple[str, Ballot]]
) -> dict[str, ClassCount]:
    """Counts per class from (class, ballot) pairs, one per seat that voted."""
    tallies = {c: {"yes": 0, "no": 0, "abstain": 0} for c in seats}
    for member_class, ballot in ballots:
        tallies[member_class][ballot.value] += 1
    return {c: ClassCount(seats[c], **tallies[c]) for c in seats}


def _class_outcomes(rule: ClassRule, count: ClassCount, remaining: int) -> set[bool]:
    """Every outcome this class can still reach if up to REMAINING more seats vote."""
    outcomes = set()
    for yes in range(remaining + 1):
        for no in range(remaining - yes + 1):
            for abstain in range(remaining - yes - no + 1):
                later = ClassCount(
                    count.seats, count.yes + yes, count.no + no, count.abstain + abstain
                )
                outcomes.add(class_result("", rule, later).passed)
                if len(outcomes) == 2:
                    return outcomes
    return outcomes


def settled_outcome(
    rule: DecisionRule, counts: Mapping[str, ClassCount], remaining: Mapping[str, int]
) -> bool | None:
    """Passed (True) or rejected (False) once no ballot still to come can change the outcome,
    None while one can. REMAINING is, per class, the seats that may still vote (seats left
    vacant at the opening can never vote, so they are not remaining)."""
    certain_pass = True
    for member_class, class_rule in rule.per_class.items():
        count = counts[member_class]
        left = max(0, min(remaining.get(member_class, 0), count.not_voted))
        outcomes = _class_outcomes(class_rule, count, left)
        if outcomes == {False}:
            return False
        certain_pass = certain_pass and outcomes == {True}
    return True if certain_pass else None


def recount(classes: Iterable[tuple[ClassRule, ClassCount]]) -> bool:
    """The outcome that stated counts and rules imply (a published decision is checked this
    way by anyone): passed only if there are classes and every one of them passes."""
    results = [class_result("", rule, count) for rule, count in classes]
    return bool(results) and all(r.passed for r in results)
