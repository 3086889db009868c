"""The classic CLT shared-equity resale formula, and the ledger split it becomes in CLTD.

appreciation = appraised value at sale − initial price (never below zero here: the owner gets
at least the initial price back); the owner's share of it is a percentage the bylaws set,
rising with tenure; resale price = initial price + that share; the owner's equity = resale
price − outstanding loans. Money is integer cents, never float; a share of a cent is rounded
half to even.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

# (years of tenure at least, the owner's share of appreciation): 25% rising to 45%.
DEFAULT_SCHEDULE: tuple[tuple[int, Fraction], ...] = (
    (0, Fraction(25, 100)),
    (5, Fraction(30, 100)),
    (10, Fraction(35, 100)),
    (20, Fraction(40, 100)),
    (30, Fraction(45, 100)),
)


def _cents(amount: Fraction) -> int:
    return int(
        (Decimal(amount.numerator) / Decimal(amount.denominator)).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN
        )
    )


def share_for_tenure(
    years: int, schedule: Sequence[tuple[int, Fraction]] = DEFAULT_SCHEDULE
) -> Fraction:
    if years < 0:
        raise ValueError("tenure cannot be negative")
    eligible = [share for minimum, share in schedule if years >= minimum]
    if not eligible:
        raise ValueError("the schedule has no share for this tenure")
    return eligible[-1]


@dataclass(frozen=True)
class Resale:
    appreciation: int
    owner_share: int
    resale_price: int
    owner_equity: int


def resale(*, appraised: int, initial: int, share: Fraction, loans: int) -> Resale:
    """All amounts in cents. The worked example: 125,000 / 95,000 / 35% / 80,000 gives a
    share of 10,500, a resale price of 105,500 and the owner's equity of 25,500."""
    if min(appraised, initial, loans) < 0 or not 0 <= share <= 1:
        raise ValueError("amounts are non-negative cents and the share is between 0 and 1")
    appreciation = max(0, appraised - initial)
    owner_share = _cents(share * appreciation)
    price = initial + owner_share
    return Resale(appreciation, owner_share, price, price - loans)


@dataclass(frozen=True)
class Split:
    contributors: dict[int, int]  # member id → cents
    commons: int


def split_payment(total: int, served: Mapping[int, int], contributors_share: Fraction) -> Split:
    """Share a licence payment: CONTRIBUTORS_SHARE of it pro rata to records served under the
    licence, the rest to the commons fund. Largest remainders, so the cents always add up."""
    if total < 0 or not 0 <= contributors_share <= 1 or any(n < 0 for n in served.values()):
        raise ValueError("a payment and counts are non-negative, the share between 0 and 1")
    served_total = sum(served.values())
    pot = _cents(contributors_share * total) if served_total else 0
    exact = {m: Fraction(pot * n, served_total) for m, n in served.items()} if served_total else {}
    paid = {m: int(exact.get(m, 0)) for m in served}  # floor; remainders are handed out below
    leftover = pot - sum(paid.values())
    for member in sorted(exact, key=lambda m: (-(exact[m] - paid[m]), m))[:leftover]:
        paid[member] += 1
    return Split(paid, total - pot)
