"""Request and response bodies of the incident endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from store.enums import IncidentStatus, Severity

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Description = Annotated[str, StringConstraints(max_length=5000)]
ServiceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
EnvironmentName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
Reason = Annotated[str, StringConstraints(max_length=1000)]
EnrichmentKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]
Enrichments = Annotated[dict[EnrichmentKey, Any], Field(max_length=50)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentCreateIn(_Input):
    title: Title
    severity: Severity
    description: Description | None = None
    service: ServiceName | None = None
    environment: EnvironmentName | None = None
    enrichments: Enrichments = Field(default_factory=dict)


class StatusChangeIn(_Input):
    status: IncidentStatus
    reason: Reason | None = None


class SeverityChangeIn(_Input):
    severity: Severity
    reason: Reason | None = None


class ActionIn(_Input):
    action: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    result: Annotated[str, StringConstraints(max_length=200)] | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class SignalIn(_Input):
    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    summary: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    data: dict[str, Any] = Field(default_factory=dict)


class EnrichmentsIn(_Input):
    enrichments: Annotated[dict[EnrichmentKey, Any], Field(min_length=1, max_length=50)]


class IncidentListQuery(_Input):
    status: list[IncidentStatus] = Field(default_factory=list)
    severity: Severity | None = None
    service: ServiceName | None = None
    environment: EnvironmentName | None = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    limit: int = Field(50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None


class LinkOut(BaseModel):
    """A link the source gave (its incident page, a dashboard, a runbook...)."""

    url: str
    label: str | None = None


class IncidentSummaryOut(BaseModel):
    """A list row: enrichments included, so a "Ticket" column needs no second query."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    description: str | None
    severity: Severity
    original_severity: str
    status: IncidentStatus
    service: str | None
    environment: str | None
    team: str | None
    region: str | None
    source_type: str | None
    source_ref: str | None
    started_at: datetime | None
    links: list[LinkOut]
    custom_fields: dict[str, Any]
    enrichments: dict[str, Any]
    tags: list[Any]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    last_seq: int


class IncidentOut(IncidentSummaryOut):
    signals: list[Any]
    actions: list[Any]


class IncidentPageOut(BaseModel):
    items: list[IncidentSummaryOut]
    next_cursor: str | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    ts: datetime
    type: str
    actor: str
    payload: dict[str, Any]


class TimelineOut(BaseModel):
    incident_id: str
    events: list[EventOut]
