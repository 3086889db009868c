"""Community data assets held by the trust."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cltd.models.base import Base, JSONDocument, UTCDateTime


class AssetStatus(StrEnum):
    HELD = "held"
    TRANSFERRED = "transferred"
    RETIRED = "retired"
    # Received from another trust, not yet ours: sealed here, served by no one here until the
    # sender's signed handover arrives.
    ARRIVING = "arriving"


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # Language maps, e.g. {"en": "Housing survey", "es": "Encuesta de vivienda"}
    title: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    description: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    keywords: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    # The record schema: [{"name": "damp", "type": "boolean", "required": true}, ...]
    fields: Mapped[list[dict[str, object]]] = mapped_column(JSONDocument, default=list)
    contributing_classes: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    # {"permitted": {purpose: [field, ...]}, "prohibited": [purpose], "duties": [duty]}
    policy: Mapped[dict[str, object]] = mapped_column(JSONDocument, default=dict)
    locked: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default=AssetStatus.HELD)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The audit sequence number of the asset's last change: the catalog's paging cursor. It is
    # taken under the audit head's row lock, so changes commit in this order and a reader
    # paging by it never skips one that commits later.
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    # After a transfer: who holds it now, and the proposal that decided it.
    custodian: Mapped[str | None] = mapped_column(String(300))
    decision_id: Mapped[int | None] = mapped_column(Integer)
    # Received from another trust: {"trust", "origin", "dataset", "decision", "transfer"}.
    provenance: Mapped[dict[str, object] | None] = mapped_column(JSONDocument)
