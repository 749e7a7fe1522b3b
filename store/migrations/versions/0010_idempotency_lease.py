"""An Idempotency-Key claim in progress is renewed while its request runs (`renewed_at`),
so a claim whose process died is taken over within seconds instead of minutes.

Revision ID: 0010_idempotency_lease
Revises: 0009_list_columns
Create Date: 2026-12-05 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_idempotency_lease"
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


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("renewed_at")
