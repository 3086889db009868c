"""Invariant 1 on plain values: the policy, a live grant and a live covering consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cltd.rules.codes import Code
from cltd.rules.consent import (
    ConsentState,
    GrantState,
    consent_covers,
    covering_purposes,
    may_serve,
)
from tests.rules.test_policy import POLICY, TAXONOMY

T = datetime(2026, 6, 1, 12, tzinfo=UTC)
H = timedelta(hours=1)
ASSET = 7
GRANT = GrantState(ASSET, "improve-public-services", T - 10 * H, T + 10 * H)


def consent(purpose: str, asset: int | None = ASSET, **times: datetime) -> ConsentState:
    return ConsentState(purpose, asset, times.pop("granted_at", T - 5 * H), **times)


@pytest.mark.parametrize(
    ("consents", "expected"),
    [
        ([], False),  # opt-in: nothing said means no
        ([consent("improve-public-services")], True),
        ([consent("public-benefit")], True),  # an ancestor covers its descendants
        ([consent("public-policy-making")], False),  # a sibling does not
        ([consent("improve-public-services", asset=None)], True),  # all assets
        ([consent("improve-public-services", asset=8)], False),  # another asset
        ([consent("improve-public-services", withdrawn_at=T - H)], False),
        ([consent("improve-public-services", withdrawn_at=T)], False),  # revoked at this instant
        ([consent("improve-public-services", withdrawn_at=T + H)], True),
        ([consent("improve-public-services", expires_at=T)], False),
        ([consent("improve-public-services", granted_at=T + H)], False),  # not yet
        ([consent("improve-public-services", withdrawn_at=T - H), consent("public-benefit")], True),
    ],
)
def test_consent_covers(consents: list[ConsentState], expected: bool) -> None:
    assert (
        consent_covers(consents, TAXONOMY, asset_id=ASSET, purpose="improve-public-services", at=T)
        is expected
    )


def test_covering_purposes_are_the_purpose_and_its_ancestors() -> None:
    assert covering_purposes(TAXONOMY, "personalised-advertising") == (
        "personalised-advertising",
        "advertising",
        "marketing",
    )


@pytest.mark.parametrize(
    ("grant", "purpose", "consents", "code"),
    [
        (GRANT, "improve-public-services", [consent("public-benefit")], None),
        (None, "improve-public-services", [consent("public-benefit")], Code.NO_LIVE_GRANT),
        (
            GrantState(ASSET, "improve-public-services", T - 10 * H, T),
            "improve-public-services",
            [consent("public-benefit")],
            Code.NO_LIVE_GRANT,
        ),  # expired at this instant
        (
            GrantState(ASSET, "improve-public-services", T - 10 * H, T + H, revoked_at=T - H),
            "improve-public-services",
            [consent("public-benefit")],
            Code.NO_LIVE_GRANT,
        ),
        (
            GrantState(8, "improve-public-services", T - H, T + H),
            "improve-public-services",
            [consent("public-benefit")],
            Code.NO_LIVE_GRANT,
        ),  # a grant on another asset
        (GRANT, "public-policy-making", [consent("public-benefit")], Code.NO_LIVE_GRANT),
        (GRANT, "improve-public-services", [], Code.NO_LIVE_CONSENT),
        (
            GrantState(ASSET, "commercial-research", T - H, T + H),
            "commercial-research",
            [consent("commercial-research")],
            Code.PURPOSE_PROHIBITED_BY_POLICY,
        ),
        (
            GrantState(ASSET, "advertising", T - H, T + H),
            "advertising",
            [consent("advertising")],
            Code.PURPOSE_PROHIBITED_BY_BYLAWS,
        ),
    ],
)
def test_may_serve(
    grant: GrantState | None, purpose: str, consents: list[ConsentState], code: Code | None
) -> None:
    decision = may_serve(
        policy=POLICY,
        taxonomy=TAXONOMY,
        grant=grant,
        consents=consents,
        asset_id=ASSET,
        purpose=purpose,
        at=T,
    )
    assert decision.code == code
    assert decision.allowed is (code is None)
