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
from cltd.models.governance import (
    UNDECIDED,
    AdoptedBylaws,
    BallotRow,
    Candidate,
    Election,
    ElectionStatus,
    ElectionVote,
    ElectorateSeat,
    LedgerShare,
    LicencePayment,
    Proposal,
    ProposalStatus,
)
from cltd.models.members import Member, MemberStatus, Seat, WebSession
from cltd.models.oauth import ClientType, OAuthClient, OAuthCode, OAuthToken
from cltd.models.peers import Peer, PeerDataset, PeerDecision
from cltd.models.transfers import (
    OPEN_STATES,
    Direction,
    Transfer,
    TransferContributor,
    TransferState,
)

__all__ = [
    "GENESIS_HASH",
    "OPEN_STATES",
    "UNDECIDED",
    "AccessEvent",
    "AccessEventContributor",
    "AccessRequest",
    "AdoptedBylaws",
    "Asset",
    "AssetStatus",
    "AuditEntry",
    "AuditHead",
    "BallotRow",
    "Base",
    "Candidate",
    "ClientType",
    "Consent",
    "Direction",
    "Election",
    "ElectionStatus",
    "ElectionVote",
    "ElectorateSeat",
    "Grant",
    "LedgerShare",
    "LicencePayment",
    "Member",
    "MemberKey",
    "MemberStatus",
    "OAuthClient",
    "OAuthCode",
    "OAuthToken",
    "OutboxJob",
    "OutboxStatus",
    "Peer",
    "PeerDataset",
    "PeerDecision",
    "Proposal",
    "ProposalStatus",
    "Record",
    "RequestStatus",
    "Seat",
    "Transfer",
    "TransferContributor",
    "TransferState",
    "UTCDateTime",
    "WebSession",
]
