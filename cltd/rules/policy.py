"""An asset's use policy (ODRL-like): which purposes it permits, which it prohibits, which
fields each permitted purpose may see, and the duties a consumer takes on.

Invariant 1 starts here: a purpose is usable for an asset only if neither the bylaws (the
taxonomy's prohibited mark, inherited by descendants) nor the asset's policy prohibits it or
any of its ancestors, and the policy permits it or an ancestor. The nearest permitting
purpose decides which fields are served (data minimisation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from cltd.rules.codes import Code
from cltd.rules.decision import Decision
from cltd.rules.purposes import Access, PurposeTaxonomy


class Duty(StrEnum):
    ATTRIBUTION = "attribution"
    SHARE_ALIKE = "share-alike"
    REPORT_BACK = "report-back"


class AccessOutcome(StrEnum):
    GRANTED = "granted"  # an open purpose the policy permits: granted at once
    BOARD_REVIEW = "board-review"  # needs the board (a licence proposal)
    REFUSED = "refused"


@dataclass(frozen=True)
class AssetPolicy:
    permitted: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    prohibited: frozenset[str] = frozenset()
    duties: frozenset[Duty] = frozenset()

    @classmethod
    def build(
        cls,
        permitted: Mapping[str, Iterable[str]],
        prohibited: Iterable[str] = (),
        duties: Iterable[str] = (),
    ) -> AssetPolicy:
        return cls(
            MappingProxyType({p: frozenset(f) for p, f in permitted.items()}),
            frozenset(prohibited),
            frozenset(Duty(d) for d in duties),
        )


def check_policy(policy: AssetPolicy, taxonomy: PurposeTaxonomy, fields: Iterable[str]) -> Decision:
    """Is this policy coherent with the taxonomy and the asset's fields?"""
    known_fields = set(fields)
    for purpose in (*policy.permitted, *policy.prohibited):
        if purpose not in taxonomy:
            return Decision.refuse(Code.PURPOSE_UNKNOWN, purpose=purpose)
    for purpose, served in policy.permitted.items():
        if purpose in policy.prohibited:
            return Decision.refuse(Code.POLICY_CONTRADICTS_ITSELF, purpose=purpose)
        if _chain_access(taxonomy, purpose) == Access.PROHIBITED:
            return Decision.refuse(Code.PURPOSE_PROHIBITED_BY_BYLAWS, purpose=purpose)
        for name in sorted(served - known_fields):
            return Decision.refuse(Code.POLICY_FIELD_UNKNOWN, field=name)
    return Decision.allow()


def _chain(taxonomy: PurposeTaxonomy, purpose: str) -> tuple[str, ...]:
    return (purpose, *taxonomy.ancestors(purpose))


def _chain_access(taxonomy: PurposeTaxonomy, purpose: str) -> Access:
    """The strictest access mark on the purpose and its ancestors."""
    marks = {taxonomy[p].access for p in _chain(taxonomy, purpose)}
    for strictest in (Access.PROHIBITED, Access.BOARD_REVIEW):
        if strictest in marks:
            return strictest
    return Access.OPEN


def purpose_use(policy: AssetPolicy, taxonomy: PurposeTaxonomy, purpose: str) -> Decision:
    """May the asset be used for PURPOSE at all (before any grant or consent)?"""
    if purpose not in taxonomy:
        return Decision.refuse(Code.PURPOSE_UNKNOWN, purpose=purpose)
    chain = _chain(taxonomy, purpose)
    if _chain_access(taxonomy, purpose) == Access.PROHIBITED:
        return Decision.refuse(Code.PURPOSE_PROHIBITED_BY_BYLAWS, purpose=purpose)
    if any(p in policy.prohibited for p in chain):
        return Decision.refuse(Code.PURPOSE_PROHIBITED_BY_POLICY, purpose=purpose)
    if not any(p in policy.permitted for p in chain):
        return Decision.refuse(Code.PURPOSE_NOT_PERMITTED, purpose=purpose)
    return Decision.allow()


def served_fields(policy: AssetPolicy, taxonomy: PurposeTaxonomy, purpose: str) -> frozenset[str]:
    """The fields the nearest permitting purpose allows; nothing if the purpose is not usable."""
    if not purpose_use(policy, taxonomy, purpose):
        return frozenset()
    for candidate in _chain(taxonomy, purpose):
        if candidate in policy.permitted:
            return policy.permitted[candidate]
    return frozenset()


def access_request_outcome(
    policy: AssetPolicy, taxonomy: PurposeTaxonomy, purpose: str
) -> tuple[AccessOutcome, Decision]:
    """A consumer asks for (asset, purpose): grant at once, send to the board, or refuse."""
    decision = purpose_use(policy, taxonomy, purpose)
    if not decision:
        return AccessOutcome.REFUSED, decision
    if _chain_access(taxonomy, purpose) == Access.BOARD_REVIEW:
        return AccessOutcome.BOARD_REVIEW, decision
    return AccessOutcome.GRANTED, decision
