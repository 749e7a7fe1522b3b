"""Idempotent requests survive a dead process: a claim in progress is renewed while its
request runs (`renewed_at`), so a claim whose process died is taken over within seconds;
a session start keeps its Idempotency-Key (`request_key`), so the retry that takes it over
finds the session the dead attempt started instead of starting another.

Revision ID: 0010_idempotent_requests
Revises: 0009_list_columns
Create Date: 2026-12-05 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_idempotent_requests"
down_revision = "0009_list_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "idempotency_keys", sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute("UPDATE idempotency_keys SET renewed_at = created_at")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column("renewed_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.add_column("runbook_sessions", sa.Column("request_key", sa.String(255), nullable=True))
    op.create_index(
        "ix_runbook_sessions_org_id_request_key", "runbook_sessions", ["org_id", "request_key"]
    )


def downgrade() -> None:
    op.drop_index("ix_runbook_sessions_org_id_request_key", table_name="runbook_sessions")
    with op.batch_alter_table("runbook_sessions") as batch:
        batch.drop_column("request_key")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("renewed_at")
