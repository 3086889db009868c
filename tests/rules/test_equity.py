"""The CLT shared-equity formula and the licence ledger split, on plain integer cents."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cltd.rules.equity import resale, share_for_tenure, split_payment


def test_the_worked_example_of_the_design() -> None:
    """Appraised $125,000, initial $95,000, 35% after 15 years, loans $80,000.

    DESIGN.md gives the resale price as $105,000, but its own formula (initial + share =
    95,000 + 10,500) and its equity of $25,500 (= resale − 80,000) both need $105,500: the
    $105,000 is a typo there, and this test follows the formula and the equity."""
    share = share_for_tenure(15)
    assert share == Fraction(35, 100)
    result = resale(appraised=12_500_000, initial=9_500_000, share=share, loans=8_000_000)
    assert result.appreciation == 3_000_000
    assert result.owner_share == 1_050_000
    assert result.resale_price == 10_550_000
    assert result.owner_equity == 2_550_000


@pytest.mark.parametrize(
    ("years", "percent"),
    [(0, 25), (4, 25), (5, 30), (9, 30), (10, 35), (19, 35), (20, 40), (30, 45), (60, 45)],
)
def test_the_share_rises_with_tenure_from_25_to_45_percent(years: int, percent: int) -> None:
    assert share_for_tenure(years) == Fraction(percent, 100)


def test_a_fall_in_value_returns_the_initial_price() -> None:
    result = resale(appraised=9_000_000, initial=9_500_000, share=Fraction(1, 4), loans=0)
    assert (result.appreciation, result.owner_share, result.resale_price) == (0, 0, 9_500_000)


def test_a_share_of_a_cent_is_rounded_half_to_even() -> None:
    assert resale(appraised=101, initial=100, share=Fraction(1, 2), loans=0).owner_share == 0
    assert resale(appraised=103, initial=100, share=Fraction(1, 2), loans=0).owner_share == 2


@pytest.mark.parametrize("bad", [{"appraised": -1}, {"loans": -5}, {"share": Fraction(3, 2)}])
def test_impossible_inputs_are_refused(bad: dict[str, object]) -> None:
    values: dict[str, object] = {"appraised": 1, "initial": 1, "share": Fraction(1, 2), "loans": 0}
    with pytest.raises(ValueError):
        resale(**{**values, **bad})  # type: ignore[arg-type]


def test_a_licence_payment_is_split_pro_rata_and_the_rest_goes_to_the_commons() -> None:
    split = split_payment(100_000, {1: 3, 2: 1}, Fraction(60, 100))
    assert split.contributors == {1: 45_000, 2: 15_000}
    assert split.commons == 40_000


@given(
    total=st.integers(0, 10**9),
    served=st.dictionaries(st.integers(1, 500), st.integers(0, 10_000), max_size=40),
    percent=st.integers(0, 100),
)
def test_the_split_always_adds_up_and_is_fair_to_the_cent(
    total: int, served: dict[int, int], percent: int
) -> None:
    split = split_payment(total, served, Fraction(percent, 100))
    assert sum(split.contributors.values()) + split.commons == total
    served_total = sum(served.values())
    for member, count in served.items():
        exact = Fraction(total - split.commons) * count / served_total if served_total else 0
        assert abs(split.contributors[member] - exact) < 1
