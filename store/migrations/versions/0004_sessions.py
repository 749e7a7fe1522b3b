"""Runbook sessions: the session index, HTTP idempotency keys, database connections.

Revision ID: 0004_sessions
Revises: 0003_connections
Create Date: 2025-04-01 00:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004_sessions"
down_revision = "0003_connections"
branch_labels = None
depends_on = None


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "runbook_sessions",
        sa.Column("session_id", sa.String(255), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=True),
        sa.Column("runbook_id", sa.String(128), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("requester", sa.String(255), nullable=False),
        sa.Column("plan_hash", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("target_connection", sa.String(64), nullable=True),
        sa.Column("target_rule", sa.Text(), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("session_id", name="pk_runbook_sessions"),
        sa.UniqueConstraint(
            "org_id",
            "incident_id",
            "runbook_id",
            "number",
            name="uq_runbook_sessions_org_id_incident_id_runbook_id_number",
        ),
    )
    op.create_index(
        "ix_runbook_sessions_org_id_created_at", "runbook_sessions", ["org_id", "created_at"]
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("org_id", "key", name="pk_idempotency_keys"),
    )
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("database", sa.String(1024), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("database")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_runbook_sessions_org_id_created_at", table_name="runbook_sessions")
    op.drop_table("runbook_sessions")
