"""SQLAlchemy models: the trust's state, with no policy in them."""

from cltd.models.assets import Asset, AssetStatus
from cltd.models.audit import GENESIS_HASH, AuditEntry, AuditHead
from cltd.models.base import Base, UTCDateTime
from cltd.models.data import (
    AccessEvent,
    AccessEventContributor,
    AccessRequest,
    Consent,
    Grant,
    MemberKey,
    OutboxJob,
    OutboxStatus,
    Record,
    RequestStatus,
)
from cltd.models.governance import BallotRow, ElectorateSeat, Proposal, ProposalStatus
from cltd.models.members import Member, MemberStatus, Seat, WebSession
from cltd.models.oauth import ClientType, OAuthClient, OAuthCode, OAuthToken

__all__ = [
    "GENESIS_HASH",
    "AccessEvent",
    "AccessEventContributor",
    "AccessRequest",
    "Asset",
    "AssetStatus",
    "AuditEntry",
    "AuditHead",
    "BallotRow",
    "Base",
    "ClientType",
    "Consent",
    "ElectorateSeat",
    "Grant",
    "Member",
    "MemberKey",
    "MemberStatus",
    "OAuthClient",
    "OAuthCode",
    "OAuthToken",
    "OutboxJob",
    "OutboxStatus",
    "Proposal",
    "ProposalStatus",
    "Record",
    "RequestStatus",
    "Seat",
    "UTCDateTime",
    "WebSession",
]
