"""Tables of the application database (SQLAlchemy 2.0 typed declarative)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.base import AUTO_ID, INCIDENT_ID, ORG_ID, Base
from store.timeline_models import (
    EvidenceBundleModel,
    FormSchemaVersionModel,
    IncidentActionModel,
    IncidentKeyModel,
    IncidentSignalModel,
    SloViolationModel,
)

__all__ = [
    "Base",
    "EvidenceBundleModel",
    "FormSchemaVersionModel",
    "IncidentActionModel",
    "IncidentKeyModel",
    "IncidentSignalModel",
    "SloViolationModel",
]


class IncidentEventModel(Base):
    """Append-only source of truth for incidents."""

    __tablename__ = "incident_events"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    incident_id: Mapped[str] = mapped_column(INCIDENT_ID, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(255))


class IncidentModel(Base):
    """Snapshot projected from incident_events; `rebuild_all` can recompute it."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index(None, "org_id", "created_at", "id"),
        Index(None, "org_id", "updated_at", "id"),
        Index(None, "org_id", "project_id"),
        Index(None, "org_id", "triage_status"),
    )

    id: Mapped[str] = mapped_column(INCIDENT_ID, primary_key=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8))
    original_severity: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    service: Mapped[str | None] = mapped_column(String(200))
    environment: Mapped[str | None] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_ref: Mapped[str | None] = mapped_column(String(512))
    started_at: Mapped[datetime | None]
    # Server defaults let migration 0002 fill the rows that existed before it.
    links: Mapped[list[Any]] = mapped_column(server_default="[]")
    custom_fields: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    enrichments: Mapped[dict[str, Any]]
    tags: Mapped[list[Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    last_seq: Mapped[int] = mapped_column(Integer)
    # The timeline service's fields (migration 0005); the lists default to empty.
    project_id: Mapped[str | None] = mapped_column(String(64))
    detected_by: Mapped[str | None] = mapped_column(String(200))
    primary_signal_id: Mapped[str | None] = mapped_column(String(128))
    runbook_path: Mapped[str | None] = mapped_column(String(500))
    external_refs: Mapped[list[Any]] = mapped_column(server_default="[]")
    correlation_keys: Mapped[list[Any]] = mapped_column(server_default="[]")
    ended_at: Mapped[datetime | None]
    detected_at: Mapped[datetime | None]
    collection_context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The triage analysis (migration 0006), and its status for the list filter.
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    triage_status: Mapped[str | None] = mapped_column(String(32))


class OutboxModel(Base):
    """An incident event waiting to be dispatched to workflows (same transaction)."""

    __tablename__ = "outbox"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "incident_id", "event_seq"],
            [IncidentEventModel.org_id, IncidentEventModel.incident_id, IncidentEventModel.seq],
        ),
        Index(None, "dispatched_at", "id"),
    )

    id: Mapped[int] = mapped_column(AUTO_ID, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    incident_id: Mapped[str] = mapped_column(INCIDENT_ID)
    event_seq: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(64))
    trigger_event: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]


class WorkflowRunModel(Base):
    """One Temporal workflow started for a YAML workflow."""

    __tablename__ = "workflow_runs"
    __table_args__ = (
        Index(None, "org_id", "incident_id"),
        Index(None, "org_id", "workflow_id", "started_at"),
    )

    run_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    incident_id: Mapped[str | None] = mapped_column(INCIDENT_ID)
    workflow_id: Mapped[str] = mapped_column(String(200))
    plan_hash: Mapped[str] = mapped_column(String(128))
    trigger: Mapped[str] = mapped_column(String(32))
    event_seq: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime]


class NotificationModel(Base):
    """A message for the org's live stream; dedup_key makes activity retries harmless."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("org_id", "dedup_key"), Index(None, "org_id", "id"))

    id: Mapped[int] = mapped_column(AUTO_ID, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    created_at: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(500))
    severity: Mapped[str | None] = mapped_column(String(32))
    links: Mapped[list[Any]]
    incident_id: Mapped[str | None] = mapped_column(INCIDENT_ID)
    source: Mapped[str | None] = mapped_column(String(255))
    dedup_key: Mapped[str | None] = mapped_column(String(255))


class IncidentSourceModel(Base):
    """(org, source type, source ref) → incident: what makes ingestion idempotent.

    `last_state` is what the source said last (status, severity, description...), so a
    repeat changes nothing and a human's edit is not undone by an unchanged delivery.
    `signal_keys` are the hashes of the evidence already recorded on the incident.
    """

    __tablename__ = "incident_sources"
    __table_args__ = (Index(None, "org_id", "incident_id"),)

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    source_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    source_ref: Mapped[str] = mapped_column(String(512), primary_key=True)
    incident_id: Mapped[str] = mapped_column(INCIDENT_ID)
    last_state: Mapped[dict[str, Any]]
    signal_keys: Mapped[list[Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class IngestPayloadModel(Base):
    """A raw delivery body kept for audit and replay (cut at the configured size)."""

    __tablename__ = "ingest_payloads"
    __table_args__ = (Index(None, "org_id", "received_at"),)

    id: Mapped[int] = mapped_column(AUTO_ID, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    source_type: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str | None] = mapped_column(String(255))
    incident_ids: Mapped[list[Any]]
    received_at: Mapped[datetime]
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text)


class WebhookConfigModel(Base):
    """An org's webhook endpoint for one vendor: its URL segment and how it authenticates."""

    __tablename__ = "webhook_configs"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    hook_id: Mapped[str] = mapped_column(String(64), unique=True)
    auth_kind: Mapped[str] = mapped_column(String(16))
    secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(255))
    header_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDeliveryModel(Base):
    """A vendor delivery id already answered, and the answer, so retries are absorbed."""

    __tablename__ = "webhook_deliveries"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[datetime]
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]]


class ConnectionModel(Base):
    """An infrastructure connection of an org: where runbook commands run, and as whom.

    Credentials are Fernet ciphertext (core.secretbox); `credential_kind` says which
    (none, password, private_key). `host_key` is a pinned OpenSSH public key line and
    `known_hosts` known_hosts text: public data, kept in clear.
    """

    __tablename__ = "connections"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[list[Any]]
    environment: Mapped[str | None] = mapped_column(String(100))
    host_key: Mapped[str | None] = mapped_column(Text)
    known_hosts: Mapped[str | None] = mapped_column(Text)
    credential_kind: Mapped[str] = mapped_column(String(16))
    credential_ciphertext: Mapped[str | None] = mapped_column(Text)
    credential_passphrase_ciphertext: Mapped[str | None] = mapped_column(Text)
    # kind db: the database name (PostgreSQL) or file path (SQLite).
    database: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OrgSettingsModel(Base):
    """Per-org settings; an org without a row uses the defaults."""

    __tablename__ = "org_settings"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    execution_mode: Mapped[str] = mapped_column(String(8))
    auto_threshold: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # guardrails (migration 0006)
    list_columns: Mapped[list[str] | None] = mapped_column(JSON)  # console list (0009)


class UserModel(Base):
    """A person who signs in to the console; the password is kept as a bcrypt hash only."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_org_id", "org_id"),)

    email: Mapped[str] = mapped_column(String(320), primary_key=True)  # lower-cased
    org_id: Mapped[str] = mapped_column(ORG_ID)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class TriageModelRow(Base):
    """An org's learned triage classifier (services/triage_learn.py): plain JSON data,
    never a pickle, so reading it back can never run code."""

    __tablename__ = "triage_models"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # None: abstains
    verdicts: Mapped[int] = mapped_column(Integer)  # operator verdicts it was trained on
    trained_at: Mapped[datetime]


class RunbookSessionModel(Base):
    """The index of runbook sessions: which org, incident and runbook each belongs to.

    The session itself (steps, approvals, status) lives in its Temporal workflow, whose
    id is `session_id` = `<org>:<incident>:runbook:<runbook_id>:<number>`.
    """

    __tablename__ = "runbook_sessions"
    __table_args__ = (
        UniqueConstraint("org_id", "incident_id", "runbook_id", "number"),
        Index("ix_runbook_sessions_org_id_created_at", "org_id", "created_at"),
        Index("ix_runbook_sessions_org_id_request_key", "org_id", "request_key"),
    )

    session_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    org_id: Mapped[str] = mapped_column(ORG_ID)
    incident_id: Mapped[str | None] = mapped_column(INCIDENT_ID)
    runbook_id: Mapped[str] = mapped_column(String(128))
    number: Mapped[int] = mapped_column(Integer)
    requester: Mapped[str] = mapped_column(String(255))
    plan_hash: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))
    confidence: Mapped[float] = mapped_column(Float)
    target_connection: Mapped[str | None] = mapped_column(String(64))
    target_rule: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # The Idempotency-Key of the start request: a retry finds this session again.
    request_key: Mapped[str | None] = mapped_column(String(255))


class IdempotencyKeyModel(Base):
    """The first answer to a request sent with an `Idempotency-Key` header.

    `status_code` is NULL while the first request is still being handled; its process
    renews `renewed_at` meanwhile, so a claim whose process died is taken over.
    `fingerprint` (a hash of the method, path and body) refuses the same key for a
    different request.
    """

    __tablename__ = "idempotency_keys"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    renewed_at: Mapped[datetime]
