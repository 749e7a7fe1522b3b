"""Triage: the analysis on each incident snapshot, and each org's triage settings.

No event before this revision is a triage event, so existing snapshots need no rebuild:
their triage is empty.

Revision ID: 0006_triage
Revises: 0005_timeline
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_triage"
down_revision = "0005_timeline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("triage", sa.JSON(), nullable=True))
    op.add_column("incidents", sa.Column("triage_status", sa.String(32), nullable=True))
    op.create_index(
        "ix_incidents_org_id_triage_status", "incidents", ["org_id", "triage_status"]
    )
    op.add_column("org_settings", sa.Column("triage", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("org_settings") as batch:
        batch.drop_column("triage")
    op.drop_index("ix_incidents_org_id_triage_status", table_name="incidents")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("triage_status")
        batch.drop_column("triage")
