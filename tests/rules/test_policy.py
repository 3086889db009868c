"""Asset policies against the shipped taxonomy: what a purpose may use, and what a consumer
asking for access gets. Table-driven on plain values."""

from __future__ import annotations

import pytest

from cltd.resources import governance_dir
from cltd.rules.codes import Code
from cltd.rules.policy import (
    AccessOutcome,
    AssetPolicy,
    access_request_outcome,
    check_policy,
    purpose_use,
    served_fields,
)
from cltd.rules.purposes import PurposeTaxonomy, load_purposes

TAXONOMY: PurposeTaxonomy = load_purposes(governance_dir() / "purposes.toml")
FIELDS = ("street", "damp", "heating", "household_size", "name")
POLICY = AssetPolicy.build(
    permitted={
        "public-benefit": ["street", "damp", "heating"],
        "public-policy-making": ["street", "damp"],
        "research-and-development": ["damp", "heating", "household_size"],
        "service-provision": FIELDS,
    },
    prohibited=["commercial-research"],
    duties=["attribution", "report-back"],
)


@pytest.mark.parametrize(
    ("purpose", "allowed", "code"),
    [
        ("public-benefit", True, None),
        ("improve-public-services", True, None),  # a child of a permitted purpose
        ("public-policy-making", True, None),
        ("scientific-research", True, None),
        ("commercial-research", False, Code.PURPOSE_PROHIBITED_BY_POLICY),
        ("marketing", False, Code.PURPOSE_PROHIBITED_BY_BYLAWS),
        ("personalised-advertising", False, Code.PURPOSE_PROHIBITED_BY_BYLAWS),
        ("communication-management", False, Code.PURPOSE_NOT_PERMITTED),
        ("organisation-governance", False, Code.PURPOSE_NOT_PERMITTED),
        ("no-such-purpose", False, Code.PURPOSE_UNKNOWN),
    ],
)
def test_purpose_use(purpose: str, allowed: bool, code: Code | None) -> None:
    decision = purpose_use(POLICY, TAXONOMY, purpose)
    assert (decision.allowed, decision.code) == (allowed, code)


@pytest.mark.parametrize(
    ("purpose", "fields"),
    [
        ("public-benefit", {"street", "damp", "heating"}),
        ("public-policy-making", {"street", "damp"}),  # its own, narrower entry wins
        ("combat-climate-change", {"street", "damp", "heating"}),  # inherits its parent's
        ("non-commercial-research", {"damp", "heating", "household_size"}),
        ("commercial-research", set()),  # prohibited: nothing at all
        ("communication-management", set()),
    ],
)
def test_served_fields_follow_the_nearest_permitting_purpose(
    purpose: str, fields: set[str]
) -> None:
    assert served_fields(POLICY, TAXONOMY, purpose) == fields


@pytest.mark.parametrize(
    ("purpose", "outcome", "code"),
    [
        ("public-benefit", AccessOutcome.GRANTED, None),
        ("provide-official-statistics", AccessOutcome.GRANTED, None),
        ("service-provision", AccessOutcome.GRANTED, None),
        ("research-and-development", AccessOutcome.BOARD_REVIEW, None),
        ("scientific-research", AccessOutcome.BOARD_REVIEW, None),
        ("commercial-research", AccessOutcome.REFUSED, Code.PURPOSE_PROHIBITED_BY_POLICY),
        ("advertising", AccessOutcome.REFUSED, Code.PURPOSE_PROHIBITED_BY_BYLAWS),
        ("communication-management", AccessOutcome.REFUSED, Code.PURPOSE_NOT_PERMITTED),
    ],
)
def test_access_requests(purpose: str, outcome: AccessOutcome, code: Code | None) -> None:
    got, decision = access_request_outcome(POLICY, TAXONOMY, purpose)
    assert (got, decision.code) == (outcome, code)


def test_the_shipped_example_policy_is_coherent() -> None:
    assert check_policy(POLICY, TAXONOMY, FIELDS).allowed


@pytest.mark.parametrize(
    ("policy", "code"),
    [
        (AssetPolicy.build({"nope": []}), Code.PURPOSE_UNKNOWN),
        (AssetPolicy.build({}, prohibited=["nope"]), Code.PURPOSE_UNKNOWN),
        (
            AssetPolicy.build({"public-benefit": []}, prohibited=["public-benefit"]),
            Code.POLICY_CONTRADICTS_ITSELF,
        ),
        (AssetPolicy.build({"advertising": []}), Code.PURPOSE_PROHIBITED_BY_BYLAWS),
        (AssetPolicy.build({"public-benefit": ["shoe_size"]}), Code.POLICY_FIELD_UNKNOWN),
    ],
)
def test_incoherent_policies_are_refused(policy: AssetPolicy, code: Code) -> None:
    decision = check_policy(policy, TAXONOMY, FIELDS)
    assert not decision.allowed and decision.code == code


def test_unknown_duty_is_refused() -> None:
    with pytest.raises(ValueError):
        AssetPolicy.build({}, duties=["be-nice"])
