"""The timeline service whole: snapshot fields, signal/action/SLO rows, keys, evidence, forms.

Signals and actions were JSON lists on the snapshot; they become rows. Database.migrate
fills them, and the new snapshot fields, from the events right after this revision
(store.migrate.REBUILDING_REVISIONS).

Revision ID: 0005_timeline
Revises: 0004_sessions
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005_timeline"
down_revision = "0004_sessions"
branch_labels = None
depends_on = None

# Existing snapshots get empty lists; `fireline incidents rebuild` fills the rest.
_NEW_INCIDENT_COLUMNS = (
    ("project_id", sa.String(64), None),
    ("detected_by", sa.String(200), None),
    ("primary_signal_id", sa.String(128), None),
    ("runbook_path", sa.String(500), None),
    ("external_refs", sa.JSON(), "[]"),
    ("correlation_keys", sa.JSON(), "[]"),
    ("ended_at", sa.DateTime(timezone=True), None),
    ("detected_at", sa.DateTime(timezone=True), None),
    ("collection_context", sa.JSON(), None),
)


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def event_key() -> list[sa.Column[Any]]:
    return [
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    for name, column_type, default in _NEW_INCIDENT_COLUMNS:
        op.add_column(
            "incidents",
            sa.Column(name, column_type, nullable=default is None, server_default=default),
        )
    # Signals and actions move from JSON lists on the snapshot to their own rows.
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("signals")
        batch.drop_column("actions")
    op.create_index("ix_incidents_org_id_updated_at_id", "incidents", ["org_id", "updated_at", "id"])
    op.create_index("ix_incidents_org_id_project_id", "incidents", ["org_id", "project_id"])
    _create_timeline_rows()
    _create_keys_and_evidence()
    _create_form_schemas()


def _create_timeline_rows() -> None:
    op.create_table(
        "incident_signals",
        *event_key(),
        sa.Column("project_id", sa.String(64), nullable=True),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("service_name", sa.String(200), nullable=True),
        sa.Column("environment", sa.String(100), nullable=True),
        sa.Column("correlation_key", sa.String(500), nullable=True),
        sa.Column("trace_id", sa.String(200), nullable=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        timestamp("ts"),
        sa.PrimaryKeyConstraint("org_id", "incident_id", "seq", name="pk_incident_signals"),
    )
    op.create_index(
        "ix_incident_signals_org_id_correlation_key",
        "incident_signals",
        ["org_id", "correlation_key"],
    )
    op.create_index("ix_incident_signals_org_id_trace_id", "incident_signals", ["org_id", "trace_id"])
    op.create_table(
        "incident_actions",
        *event_key(),
        sa.Column("actor_type", sa.String(16), nullable=False),
        sa.Column("actor_ref", sa.String(255), nullable=False),
        sa.Column("action_kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        timestamp("ts"),
        sa.PrimaryKeyConstraint("org_id", "incident_id", "seq", name="pk_incident_actions"),
    )
    op.create_index("ix_incident_actions_org_id_ts", "incident_actions", ["org_id", "ts"])
    op.create_table(
        "incident_slo_violations",
        *event_key(),
        sa.Column("slo_id", sa.String(200), nullable=False),
        timestamp("window_start"),
        timestamp("window_end"),
        sa.Column("error_budget_consumed", sa.Float(), nullable=False),
        sa.Column("threshold_breached", sa.Boolean(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        timestamp("ts"),
        sa.PrimaryKeyConstraint("org_id", "incident_id", "seq", name="pk_incident_slo_violations"),
    )
    op.create_index(
        "ix_incident_slo_violations_org_id_slo_id", "incident_slo_violations", ["org_id", "slo_id"]
    )


def _create_keys_and_evidence() -> None:
    op.create_table(
        "incident_keys",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "kind", "value", "incident_id", name="pk_incident_keys"),
    )
    op.create_index(
        "ix_incident_keys_org_id_incident_id", "incident_keys", ["org_id", "incident_id"]
    )
    op.create_table(
        "evidence_bundles",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("bundle_id", sa.String(80), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("source_payload", sa.JSON(), nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("org_id", "bundle_id", name="pk_evidence_bundles"),
    )


def _create_form_schemas() -> None:
    op.create_table(
        "incident_form_schema_versions",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=True),
        sa.Column("changed_by", sa.String(255), nullable=False),
        timestamp("changed_at"),
        sa.PrimaryKeyConstraint("org_id", "version", name="pk_incident_form_schema_versions"),
    )


def downgrade() -> None:
    op.drop_table("incident_form_schema_versions")
    op.drop_table("evidence_bundles")
    op.drop_index("ix_incident_keys_org_id_incident_id", table_name="incident_keys")
    op.drop_table("incident_keys")
    for table in ("incident_slo_violations", "incident_actions", "incident_signals"):
        op.drop_table(table)
    op.drop_index("ix_incidents_org_id_project_id", table_name="incidents")
    op.drop_index("ix_incidents_org_id_updated_at_id", table_name="incidents")
    with op.batch_alter_table("incidents") as batch:
        for name, _type, _default in reversed(_NEW_INCIDENT_COLUMNS):
            batch.drop_column(name)
        # Empty until `fireline incidents rebuild` runs with the code of revision 0004.
        batch.add_column(sa.Column("signals", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("actions", sa.JSON(), nullable=False, server_default="[]"))
