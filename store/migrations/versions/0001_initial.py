"""Initial schema: incident events and snapshots, outbox, workflow runs, notifications.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "incident_events",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        timestamp("ts"),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "incident_id", "seq", name="pk_incident_events"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("original_severity", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("service", sa.String(200), nullable=True),
        sa.Column("environment", sa.String(100), nullable=True),
        sa.Column("enrichments", sa.JSON(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
        timestamp("resolved_at", nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index(
        "ix_incidents_org_id_created_at_id", "incidents", ["org_id", "created_at", "id"]
    )
    op.create_table(
        "outbox",
        sa.Column("id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("trigger_event", sa.String(32), nullable=True),
        timestamp("created_at"),
        timestamp("dispatched_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(
            ["org_id", "incident_id", "event_seq"],
            ["incident_events.org_id", "incident_events.incident_id", "incident_events.seq"],
            name="fk_outbox_org_id_incident_id_event_seq_incident_events",
        ),
    )
    op.create_index("ix_outbox_dispatched_at_id", "outbox", ["dispatched_at", "id"])
    op.create_table(
        "workflow_runs",
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=True),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("plan_hash", sa.String(128), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        timestamp("started_at"),
        sa.PrimaryKeyConstraint("run_id", name="pk_workflow_runs"),
    )
    op.create_index(
        "ix_workflow_runs_org_id_incident_id", "workflow_runs", ["org_id", "incident_id"]
    )
    op.create_index(
        "ix_workflow_runs_org_id_workflow_id_started_at",
        "workflow_runs",
        ["org_id", "workflow_id", "started_at"],
    )
    op.create_table(
        "notifications",
        sa.Column("id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        timestamp("created_at"),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("severity", sa.String(32), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=True),
        sa.Column("source", sa.String(255), nullable=True),
        sa.Column("dedup_key", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("org_id", "dedup_key", name="uq_notifications_org_id_dedup_key"),
    )
    op.create_index("ix_notifications_org_id_id", "notifications", ["org_id", "id"])


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("workflow_runs")
    op.drop_table("outbox")
    op.drop_table("incidents")
    op.drop_table("incident_events")
