"""Triage: each org's learned classifier, stored as data (JSON arrays, never a pickle).

Revision ID: 0007_triage_models
Revises: 0006_triage
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_triage_models"
down_revision = "0006_triage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_models",
        sa.Column("org_id", sa.String(64), primary_key=True),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.Column("verdicts", sa.Integer(), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("triage_models")
