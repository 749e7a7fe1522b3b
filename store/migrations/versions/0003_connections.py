"""Runbook sessions: infrastructure connections and per-org settings (execution mode).

Revision ID: 0003_connections
Revises: 0002_ingestion
Create Date: 2025-03-01 00:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003_connections"
down_revision = "0002_ingestion"
branch_labels = None
depends_on = None


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(255), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("environment", sa.String(100), nullable=True),
        sa.Column("host_key", sa.Text(), nullable=True),
        sa.Column("known_hosts", sa.Text(), nullable=True),
        sa.Column("credential_kind", sa.String(16), nullable=False),
        sa.Column("credential_ciphertext", sa.Text(), nullable=True),
        sa.Column("credential_passphrase_ciphertext", sa.Text(), nullable=True),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("org_id", "name", name="pk_connections"),
    )
    op.create_table(
        "org_settings",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("execution_mode", sa.String(8), nullable=False),
        sa.Column("auto_threshold", sa.Float(), nullable=False),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("org_id", name="pk_org_settings"),
    )


def downgrade() -> None:
    op.drop_table("org_settings")
    op.drop_table("connections")
