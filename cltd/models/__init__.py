"""SQLAlchemy models: the trust's state, with no policy in them."""

from cltd.models.assets import Asset, AssetStatus
from cltd.models.audit import GENESIS_HASH, AuditEntry, AuditHead
from cltd.models.base import Base, UTCDateTime
from cltd.models.members import Member, MemberStatus, Seat, WebSession

__all__ = [
    "GENESIS_HASH",
    "Asset",
    "AssetStatus",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Member",
    "MemberStatus",
    "Seat",
    "UTCDateTime",
    "WebSession",
]
