"""oauth: clients, codes, tokens

Revision ID: 0002_oauth
Revises: 0001_foundation
Create Date: 2026-11-23 11:23:15.085486
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cltd.models.base

revision = "0002_oauth"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("client_type", sa.String(length=16), nullable=False),
        sa.Column(
            "redirect_uris",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "grant_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("may_introspect", sa.Boolean(), nullable=False),
        sa.Column("created_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_clients_client_id")),
    )
    op.create_table(
        "oauth_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=8), nullable=False),
        sa.Column("created_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_pk"], ["oauth_clients.id"], name=op.f("fk_oauth_codes_client_pk_oauth_clients")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_oauth_codes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oauth_codes_code_hash")),
    )
    with op.batch_alter_table("oauth_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_codes_client_pk"), ["client_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_codes_member_id"), ["member_id"], unique=False)

    op.create_table(
        "oauth_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("access_token_hash", sa.String(length=64), nullable=False),
        sa.Column("refresh_token_hash", sa.String(length=64), nullable=True),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("access_expires_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("refresh_expires_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refresh_used_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oauth_clients.id"],
            name=op.f("fk_oauth_tokens_client_pk_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["code_id"], ["oauth_codes.id"], name=op.f("fk_oauth_tokens_code_id_oauth_codes")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_oauth_tokens_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_tokens")),
        sa.UniqueConstraint("access_token_hash", name=op.f("uq_oauth_tokens_access_token_hash")),
        sa.UniqueConstraint("refresh_token_hash", name=op.f("uq_oauth_tokens_refresh_token_hash")),
    )
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_tokens_client_pk"), ["client_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_tokens_code_id"), ["code_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_tokens_family"), ["family"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_tokens_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_tokens_member_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_tokens_family"))
        batch_op.drop_index(batch_op.f("ix_oauth_tokens_code_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_tokens_client_pk"))

    op.drop_table("oauth_tokens")
    with op.batch_alter_table("oauth_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_codes_member_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_codes_client_pk"))

    op.drop_table("oauth_codes")
    op.drop_table("oauth_clients")
