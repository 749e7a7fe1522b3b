"""Ingestion: source fields on incidents, the idempotency map, raw payloads, webhooks.

Revision ID: 0002_ingestion
Revises: 0001_initial
Create Date: 2025-02-01 00:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_ingestion"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Existing snapshots get an empty list / object; the models keep the same defaults.
_NEW_INCIDENT_COLUMNS = (
    ("team", sa.String(200), None),
    ("region", sa.String(100), None),
    ("source_type", sa.String(32), None),
    ("source_ref", sa.String(512), None),
    ("started_at", sa.DateTime(timezone=True), None),
    ("links", sa.JSON(), "[]"),
    ("custom_fields", sa.JSON(), "{}"),
)


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    for name, column_type, default in _NEW_INCIDENT_COLUMNS:
        op.add_column(
            "incidents",
            sa.Column(name, column_type, nullable=default is None, server_default=default),
        )
    _create_incident_sources()
    _create_ingest_payloads()
    _create_webhook_tables()


def _create_incident_sources() -> None:
    op.create_table(
        "incident_sources",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("source_ref", sa.String(512), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("last_state", sa.JSON(), nullable=False),
        sa.Column("signal_keys", sa.JSON(), nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("org_id", "source_type", "source_ref", name="pk_incident_sources"),
    )
    op.create_index(
        "ix_incident_sources_org_id_incident_id", "incident_sources", ["org_id", "incident_id"]
    )


def _create_ingest_payloads() -> None:
    op.create_table(
        "ingest_payloads",
        sa.Column("id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(255), nullable=True),
        sa.Column("incident_ids", sa.JSON(), nullable=False),
        timestamp("received_at"),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_payloads"),
    )
    op.create_index(
        "ix_ingest_payloads_org_id_received_at", "ingest_payloads", ["org_id", "received_at"]
    )


def _create_webhook_tables() -> None:
    op.create_table(
        "webhook_configs",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("hook_id", sa.String(64), nullable=False),
        sa.Column("auth_kind", sa.String(16), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=True),
        sa.Column("username", sa.String(255), nullable=True),
        sa.Column("header_name", sa.String(100), nullable=True),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("org_id", "source", name="pk_webhook_configs"),
        sa.UniqueConstraint("hook_id", name="uq_webhook_configs_hook_id"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(255), nullable=False),
        timestamp("received_at"),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "source", "delivery_id", name="pk_webhook_deliveries"),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_configs")
    op.drop_table("ingest_payloads")
    op.drop_table("incident_sources")
    with op.batch_alter_table("incidents") as batch:
        for name, _type, _default in reversed(_NEW_INCIDENT_COLUMNS):
            batch.drop_column(name)
