"""Consent and the read decision: invariant 1 in one function.

A record is served to a consumer for purpose Q only if, at the moment of the read, the
asset's policy permits Q and does not prohibit it, the consumer holds a live grant for
(asset, Q), and the record's contributor has a live consent covering Q: Q itself or an
ancestor of Q, for this asset or for all assets. No consent means no (opt-in).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cltd.rules.codes import Code
from cltd.rules.decision import Decision
from cltd.rules.policy import AssetPolicy, purpose_use
from cltd.rules.purposes import PurposeTaxonomy


@dataclass(frozen=True)
class ConsentState:
    purpose: str
    asset_id: int | None  # None: every asset of the trust
    granted_at: datetime
    expires_at: datetime | None = None
    withdrawn_at: datetime | None = None

    def live_at(self, at: datetime) -> bool:
        return (
            self.granted_at <= at
            and (self.withdrawn_at is None or at < self.withdrawn_at)
            and (self.expires_at is None or at < self.expires_at)
        )


@dataclass(frozen=True)
class GrantState:
    asset_id: int
    purpose: str
    starts_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def live_at(self, at: datetime) -> bool:
        return self.starts_at <= at < self.expires_at and (
            self.revoked_at is None or at < self.revoked_at
        )


def consent_covers(
    consents: Iterable[ConsentState],
    taxonomy: PurposeTaxonomy,
    *,
    asset_id: int,
    purpose: str,
    at: datetime,
) -> bool:
    """Has the member a live consent covering PURPOSE (or an ancestor) for this asset?"""
    return any(
        consent.live_at(at)
        and (consent.asset_id is None or consent.asset_id == asset_id)
        and taxonomy.covers(consent.purpose, purpose)
        for consent in consents
    )


def covering_purposes(taxonomy: PurposeTaxonomy, purpose: str) -> tuple[str, ...]:
    """Purposes whose consent covers PURPOSE: itself and its ancestors (for a query filter)."""
    return (purpose, *taxonomy.ancestors(purpose))


def may_serve(
    *,
    policy: AssetPolicy,
    taxonomy: PurposeTaxonomy,
    grant: GrantState | None,
    consents: Iterable[ConsentState],
    asset_id: int,
    purpose: str,
    at: datetime,
) -> Decision:
    """Invariant 1: may one contributor's record of this asset be served for PURPOSE now?"""
    usable = purpose_use(policy, taxonomy, purpose)
    if not usable:
        return usable
    if (
        grant is None
        or grant.asset_id != asset_id
        or grant.purpose != purpose
        or not grant.live_at(at)
    ):
        return Decision.refuse(Code.NO_LIVE_GRANT)
    if not consent_covers(consents, taxonomy, asset_id=asset_id, purpose=purpose, at=at):
        return Decision.refuse(Code.NO_LIVE_CONSENT)
    return Decision.allow()
