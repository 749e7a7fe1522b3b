"""What repositories return: plain values, never ORM objects tied to a session."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class StoredEvent:
    org_id: str
    incident_id: str
    seq: int
    ts: datetime
    type: str
    payload: dict[str, Any]
    actor: str


@dataclass(frozen=True)
class IncidentSnapshot:
    id: str
    org_id: str
    title: str
    description: str | None
    severity: str
    original_severity: str
    status: str
    service: str | None
    environment: str | None
    team: str | None
    region: str | None
    source_type: str | None
    source_ref: str | None
    started_at: datetime | None
    links: list[Any]
    custom_fields: dict[str, Any]
    enrichments: dict[str, Any]
    tags: list[Any]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    last_seq: int
    project_id: str | None
    detected_by: str | None
    primary_signal_id: str | None
    runbook_path: str | None
    external_refs: list[Any]
    correlation_keys: list[Any]
    ended_at: datetime | None
    detected_at: datetime | None
    collection_context: dict[str, Any] | None
    triage: dict[str, Any] | None = None
    triage_status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class IncidentPage:
    items: list[IncidentSnapshot]
    next_cursor: str | None


@dataclass(frozen=True)
class IncidentFilters:
    """Every filter is ANDed; the tuples match any of their values."""

    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    service: str | None = None
    environment: str | None = None
    project_id: str | None = None
    tag: str | None = None
    correlation_key: str | None = None
    trace_id: str | None = None
    triage_statuses: tuple[str, ...] = ()
    source_types: tuple[str, ...] = ()
    classifications: tuple[str, ...] = ()  # triage verdicts: false_positive, true_positive...
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before
    text: str | None = None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    org_id: str
    incident_id: str
    event_seq: int
    event_type: str
    trigger_event: str | None
    created_at: datetime
    dispatched_at: datetime | None


@dataclass(frozen=True)
class WorkflowRun:
    run_id: str
    org_id: str
    incident_id: str | None
    workflow_id: str
    plan_hash: str
    trigger: str
    event_seq: int | None
    started_at: datetime


@dataclass(frozen=True)
class Notification:
    id: int
    org_id: str
    created_at: datetime
    message: str
    title: str | None
    severity: str | None
    links: list[Any]
    incident_id: str | None
    source: str | None
    dedup_key: str | None


@dataclass(frozen=True)
class IncidentSource:
    """An ingestion key and what its source said last (see IncidentSourceModel)."""

    org_id: str
    source_type: str
    source_ref: str
    incident_id: str
    last_state: dict[str, Any]
    signal_keys: list[Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredPayload:
    """A raw delivery body kept for audit; `size` is the original size in bytes."""

    id: int
    org_id: str
    source_type: str
    delivery_id: str | None
    incident_ids: list[Any]
    received_at: datetime
    content_type: str | None
    size: int
    truncated: bool
    body: str


@dataclass(frozen=True)
class RebuildResult:
    rebuilt: int  # snapshots recomputed from events
    changed: int  # of those, rows that differed and were rewritten (or deleted)
