"""Which enrichments an org's incident list shows as columns (the console's setting).

Revision ID: 0009_list_columns
Revises: 0008_users
Create Date: 2026-12-05 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_list_columns"
down_revision = "0008_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("org_settings", sa.Column("list_columns", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("org_settings") as batch:
        batch.drop_column("list_columns")
