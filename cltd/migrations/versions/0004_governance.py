"""governance: proposals, electorate, ballots

Revision ID: 0004_governance
Revises: 0003_consent
Create Date: 2026-11-23 12:59:21.046465
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cltd.models.base

revision = "0004_governance"
down_revision = "0003_consent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=True),
        sa.Column("recipient_locked", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closes_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("executed_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_proposals_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["members.id"], name=op.f("fk_proposals_created_by_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposals_asset_id"), ["asset_id"], unique=False)

    op.create_table(
        "ballots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("seat_id", sa.Integer(), nullable=False),
        sa.Column("member_class", sa.String(length=40), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column("cast_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_ballots_proposal_id_proposals")
        ),
        sa.ForeignKeyConstraint(["seat_id"], ["seats.id"], name=op.f("fk_ballots_seat_id_seats")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballots")),
        sa.UniqueConstraint("proposal_id", "seat_id", name=op.f("uq_ballots_proposal_id")),
    )
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballots_proposal_id"), ["proposal_id"], unique=False)

    op.create_table(
        "proposal_electorate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("seat_id", sa.Integer(), nullable=False),
        sa.Column("member_class", sa.String(length=40), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_electorate_proposal_id_proposals"),
        ),
        sa.ForeignKeyConstraint(
            ["seat_id"], ["seats.id"], name=op.f("fk_proposal_electorate_seat_id_seats")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_electorate")),
        sa.UniqueConstraint(
            "proposal_id", "seat_id", name=op.f("uq_proposal_electorate_proposal_id")
        ),
    )
    with op.batch_alter_table("proposal_electorate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_electorate_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("proposal_electorate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_electorate_proposal_id"))

    op.drop_table("proposal_electorate")
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballots_proposal_id"))

    op.drop_table("ballots")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposals_asset_id"))

    op.drop_table("proposals")
