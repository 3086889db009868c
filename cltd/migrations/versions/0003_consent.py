"""consent: asset schema and policy, data keys, records, consents, grants, access log, outbox

Revision ID: 0003_consent
Revises: 0002_oauth
Create Date: 2026-11-23 11:32:10.839137
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cltd.models.base

revision = "0003_consent"
down_revision = "0002_oauth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_member_id"), ["member_id"], unique=False)

    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=80), nullable=True),
        sa.Column("created_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_access_requests_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oauth_clients.id"],
            name=op.f("fk_access_requests_client_pk_oauth_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_requests_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_access_requests_client_pk"), ["client_pk"], unique=False
        )

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("granted_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_consents_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_consents_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(
            "ix_consents_lookup", ["member_id", "purpose", "asset_id"], unique=False
        )

    op.create_table(
        "member_keys",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kek_id", sa.Integer(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_keys_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_keys")),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("contributor_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_records_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["contributor_id"],
            ["members.id"],
            name=op.f("fk_records_contributor_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint("uid", name=op.f("uq_records_uid")),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_records_asset_contributor", ["asset_id", "contributor_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_records_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_records_contributor_id"), ["contributor_id"], unique=False
        )

    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", cltd.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_grants_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["client_pk"], ["oauth_clients.id"], name=op.f("fk_grants_client_pk_oauth_clients")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_grants_request_id_access_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
    )
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grants_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(
            "ix_grants_lookup", ["client_pk", "asset_id", "purpose"], unique=False
        )

    op.create_table(
        "access_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("at", cltd.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_access_events_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oauth_clients.id"],
            name=op.f("fk_access_events_client_pk_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["grants.id"], name=op.f("fk_access_events_grant_id_grants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_events")),
    )
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_events_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_events_client_pk"), ["client_pk"], unique=False)

    op.create_table(
        "access_event_contributors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["access_events.id"],
            name=op.f("fk_access_event_contributors_event_id_access_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_event_contributors")),
        sa.UniqueConstraint(
            "event_id", "member_id", name=op.f("uq_access_event_contributors_event_id")
        ),
    )
    with op.batch_alter_table("access_event_contributors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_event_contributors_member_id"), ["member_id"], unique=False
        )

    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "fields",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'[]'"),
            )
        )  # existing assets: empty
        batch_op.add_column(
            sa.Column(
                "contributing_classes",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'[]'"),
            )
        )  # existing assets: empty
        batch_op.add_column(
            sa.Column(
                "policy",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'{}'"),
            )
        )  # existing assets: empty

    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("webhook_url")

    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("policy")
        batch_op.drop_column("contributing_classes")
        batch_op.drop_column("fields")

    with op.batch_alter_table("access_event_contributors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_event_contributors_member_id"))

    op.drop_table("access_event_contributors")
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_events_client_pk"))
        batch_op.drop_index(batch_op.f("ix_access_events_asset_id"))

    op.drop_table("access_events")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index("ix_grants_lookup")
        batch_op.drop_index(batch_op.f("ix_grants_asset_id"))

    op.drop_table("grants")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_records_contributor_id"))
        batch_op.drop_index(batch_op.f("ix_records_asset_id"))
        batch_op.drop_index("ix_records_asset_contributor")

    op.drop_table("records")
    op.drop_table("member_keys")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_lookup")
        batch_op.drop_index(batch_op.f("ix_consents_asset_id"))

    op.drop_table("consents")
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_requests_client_pk"))
        batch_op.drop_index(batch_op.f("ix_access_requests_asset_id"))

    op.drop_table("access_requests")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_member_id"))
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
