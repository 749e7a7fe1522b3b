"""Request and response bodies of the incident endpoints.

Inputs accept the timeline-service document's camelCase names (`serviceName`, `projectId`,
`newStatus`, `actionKind`...) as well as snake_case; responses are snake_case.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from api.schemas.vocabulary import SeverityWord, StatusWord
from services.incident_timeline import (
    IncidentDetails,
    NewAction,
    NewSignal,
    NewSloViolation,
    TicketLink,
)
from store.enums import IncidentStatus, Severity
from store.incident_queries import DEFAULT_SORT, SORTS
from workflows.triage_models import TriageStatus


def _stripped(max_length: int, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Text100 = Annotated[str, _stripped(100)]
Text200 = Annotated[str, _stripped(200)]
Text500 = Annotated[str, _stripped(500)]
Query200 = Annotated[str, _stripped(200, min_length=0)]
Title = Text500
Description = Annotated[str, StringConstraints(max_length=5000)]
ServiceName = Text200
EnvironmentName = Text100
ProjectId = Annotated[str, _stripped(64)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(max_length=1000)]
EnrichmentKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]
Enrichments = Annotated[dict[EnrichmentKey, Any], Field(max_length=50)]
SERVICE = AliasChoices("service", "serviceName")


class SignalType(StrEnum):
    METRIC = "METRIC"
    LOG = "LOG"
    TRACE = "TRACE"
    EVENT = "EVENT"
    ALERT = "ALERT"


class ActionKind(StrEnum):
    NOTE = "NOTE"
    COMMAND = "COMMAND"
    PLAYBOOK = "PLAYBOOK"
    ESCALATION = "ESCALATION"
    COMMUNICATION = "COMMUNICATION"
    OTHER = "OTHER"


class ActorType(StrEnum):
    USER = "USER"
    SYSTEM = "SYSTEM"
    INTEGRATION = "INTEGRATION"


class _Input(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, validate_by_name=True, validate_by_alias=True
    )


class IncidentCreateIn(_Input):
    title: Title
    severity: SeverityWord
    description: Description | None = None
    service: ServiceName | None = Field(None, validation_alias=SERVICE)
    environment: EnvironmentName | None = None
    project_id: ProjectId | None = None
    detected_by: Text200 | None = None
    initial_correlation_key: Text500 | None = None
    runbook_path: Text500 | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] = []
    enrichments: Enrichments = Field(default_factory=dict)


class StatusChangeIn(_Input):
    status: StatusWord = Field(validation_alias=AliasChoices("status", "newStatus"))
    reason: Reason | None = None


class SeverityChangeIn(_Input):
    severity: SeverityWord = Field(validation_alias=AliasChoices("severity", "newSeverity"))
    reason: Reason | None = None


class ActionIn(_Input):
    """`label` (or the older `action`, with an optional `result`) says what was done."""

    action_kind: ActionKind = ActionKind.OTHER
    label: Text500 | None = None
    action: Text200 | None = None
    result: Annotated[str, StringConstraints(max_length=200)] | None = None
    details: Any = None
    actor_type: ActorType = ActorType.USER

    @model_validator(mode="after")
    def _named(self) -> ActionIn:
        if self.label is None and self.action is None:
            raise ValueError("give a label saying what was done")
        return self

    def to_action(self) -> NewAction:
        label = self.label or " → ".join(part for part in (self.action, self.result) if part)
        return NewAction(self.action_kind.value, label, self.details, self.actor_type.value)


class SignalIn(_Input):
    signal_type: SignalType = SignalType.EVENT
    source: Text100
    summary: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    service_name: ServiceName | None = Field(
        None, validation_alias=AliasChoices("serviceName", "service_name", "service")
    )
    environment: EnvironmentName | None = None
    correlation_key: Text500 | None = None
    trace_id: Text200 | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    ts: AwareDatetime | None = None

    def to_signal(self) -> NewSignal:
        return NewSignal(
            signal_type=self.signal_type.value,
            source=self.source,
            summary=self.summary,
            service_name=self.service_name,
            environment=self.environment,
            correlation_key=self.correlation_key,
            trace_id=self.trace_id,
            data=self.data,
            ts=self.ts,
        )


class TagIn(_Input):
    tag: Tag


class NoteIn(_Input):
    text: Annotated[str, StringConstraints(min_length=1, max_length=10000)]


class SloViolationIn(_Input):
    slo_id: Text200
    window_start: AwareDatetime
    window_end: AwareDatetime
    error_budget_consumed: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    threshold_breached: bool
    details: Any = None

    @model_validator(mode="after")
    def _ordered(self) -> SloViolationIn:
        if self.window_end < self.window_start:
            raise ValueError("windowEnd is before windowStart")
        return self

    def to_violation(self) -> NewSloViolation:
        return NewSloViolation(
            self.slo_id,
            self.window_start,
            self.window_end,
            self.error_budget_consumed,
            self.threshold_breached,
            self.details,
        )


class TicketLinkIn(_Input):
    system: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
    ticket_id: Text200 = Field(validation_alias=AliasChoices("ticketId", "ticket_id", "id"))
    url: Annotated[str, StringConstraints(pattern=r"^https?://", max_length=2000)] | None = None

    def to_link(self) -> TicketLink:
        return TicketLink(self.system, self.ticket_id, self.url)


class EnrichmentsIn(_Input):
    enrichments: Annotated[dict[EnrichmentKey, Any], Field(min_length=1, max_length=50)]


class IncidentListQuery(_Input):
    status: list[StatusWord] = Field(default_factory=list)
    severity: list[SeverityWord] = Field(default_factory=list)
    service: ServiceName | None = None
    environment: EnvironmentName | None = None
    project_id: ProjectId | None = None
    tag: Tag | None = None
    correlation_key: Text500 | None = None
    trace_id: Text200 | None = None
    triage_status: list[TriageStatus] = Field(default_factory=list)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    q: Query200 | None = None
    search_query: Query200 | None = None
    sort: str = Field(DEFAULT_SORT, pattern="^(" + "|".join(SORTS) + ")$")
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
    project_id: str | None
    detected_by: str | None
    source_type: str | None
    source_ref: str | None
    started_at: datetime | None
    detected_at: datetime | None
    ended_at: datetime | None
    links: list[LinkOut]
    custom_fields: dict[str, Any]
    collection_context: dict[str, Any] | None
    enrichments: dict[str, Any]
    tags: list[Any]
    correlation_keys: list[str]
    external_refs: list[dict[str, Any]]
    primary_signal_id: str | None
    runbook_path: str | None
    triage_status: str | None = None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    last_seq: int


class SignalOut(BaseModel):
    id: str
    seq: int
    signal_type: str
    source: str
    summary: str
    service_name: str | None
    environment: str | None
    correlation_key: str | None
    trace_id: str | None
    project_id: str | None
    data: dict[str, Any]
    ts: datetime


class ActionOut(BaseModel):
    seq: int
    action_kind: str
    label: str
    details: Any
    actor_type: str
    actor_ref: str
    ts: datetime


class SloViolationOut(BaseModel):
    seq: int
    slo_id: str
    window_start: datetime
    window_end: datetime
    error_budget_consumed: float
    threshold_breached: bool
    details: Any
    ts: datetime


class IncidentOut(IncidentSummaryOut):
    """One incident with its timeline rows (signals, actions and notes, SLO violations)."""

    signals: list[SignalOut] = []
    actions: list[ActionOut] = []
    slo_violations: list[SloViolationOut] = []

    @classmethod
    def of(cls, details: IncidentDetails) -> IncidentOut:
        return cls(
            **IncidentSummaryOut.model_validate(details.snapshot).model_dump(),
            signals=[SignalOut.model_validate(row) for row in details.signals],
            actions=[ActionOut.model_validate(row) for row in details.actions],
            slo_violations=[SloViolationOut.model_validate(row) for row in details.slo_violations],
        )


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
