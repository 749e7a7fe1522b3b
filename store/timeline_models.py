"""Tables of the incident timeline beside the snapshot, and of the per-org forms.

Signals, actions and SLO violations are rows projected from incident events in the same
transaction as the snapshot (keyed by the event's seq), so they can be indexed and listed;
`incident_keys` indexes each incident's tags and correlation keys for the list filters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.base import INCIDENT_ID, ORG_ID, Base


class IncidentSignalModel(Base):
    """An observability signal attached to an incident (an INCIDENT_SIGNAL_INGESTED event)."""

    __tablename__ = "incident_signals"
    __table_args__ = (
        Index(None, "org_id", "correlation_key"),
        Index(None, "org_id", "trace_id"),
    )

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    incident_id: Mapped[str] = mapped_column(INCIDENT_ID, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str | None] = mapped_column(String(64))
    signal_type: Mapped[str] = mapped_column(String(16))
    service_name: Mapped[str | None] = mapped_column(String(200))
    environment: Mapped[str | None] = mapped_column(String(100))
    correlation_key: Mapped[str | None] = mapped_column(String(500))
    trace_id: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    ts: Mapped[datetime]


class IncidentActionModel(Base):
    """Something a person or the system did (a PLAYBOOK_ACTION_EXECUTED or NOTE_ADDED event)."""

    __tablename__ = "incident_actions"
    __table_args__ = (Index(None, "org_id", "ts"),)

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    incident_id: Mapped[str] = mapped_column(INCIDENT_ID, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_ref: Mapped[str] = mapped_column(String(255))
    action_kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(500))
    details: Mapped[Any | None] = mapped_column(JSON)
    ts: Mapped[datetime]


class SloViolationModel(Base):
    """An SLO breach recorded on an incident (an INCIDENT_SLO_VIOLATION_RECORDED event)."""

    __tablename__ = "incident_slo_violations"
    __table_args__ = (Index(None, "org_id", "slo_id"),)

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    incident_id: Mapped[str] = mapped_column(INCIDENT_ID, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    slo_id: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    error_budget_consumed: Mapped[float] = mapped_column(Float)
    threshold_breached: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[Any | None] = mapped_column(JSON)
    ts: Mapped[datetime]


class IncidentKeyModel(Base):
    """One tag or correlation key of an incident, for `?tag=` and `?correlationKey=`."""

    __tablename__ = "incident_keys"
    __table_args__ = (Index(None, "org_id", "incident_id"),)

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # tag | correlation_key
    value: Mapped[str] = mapped_column(String(500), primary_key=True)
    incident_id: Mapped[str] = mapped_column(INCIDENT_ID, primary_key=True)


class EvidenceBundleModel(Base):
    """The evidence and source payload an ingestion carried, addressed by their hash."""

    __tablename__ = "evidence_bundles"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    bundle_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    incident_id: Mapped[str] = mapped_column(INCIDENT_ID)
    evidence: Mapped[dict[str, Any]]
    source_payload: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime]


class FormSchemaVersionModel(Base):
    """Every version of an org's incident form; the newest is current, `fields` NULL = deleted."""

    __tablename__ = "incident_form_schema_versions"

    org_id: Mapped[str] = mapped_column(ORG_ID, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[list[Any] | None] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime]
