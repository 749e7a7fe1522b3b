"""The generic incident every source is mapped onto (DESIGN §5).

Field names are camelCase on the wire (`sourceType`, `timeline.resolvedAt`...) and
snake_case in Python. Fields marked "Fireline extension" are not in the original generic
schema; vendor mappings fill them, API callers may.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ingest.tags import MAX_TAGS, Tag, TagObject, tags_from_object

MAX_EVIDENCE_ITEMS = 200
DEFAULT_WINDOW_MINUTES = 15


class SourceType(StrEnum):
    SCENARIO = "SCENARIO"
    GOOGLE_CLOUD = "GOOGLE_CLOUD"
    PAGERDUTY = "PAGERDUTY"
    DATADOG = "DATADOG"
    NEW_RELIC = "NEW_RELIC"
    CUSTOM = "CUSTOM"
    PROMETHEUS = "PROMETHEUS"
    GRAFANA = "GRAFANA"
    ZABBIX = "ZABBIX"
    SERVICENOW = "SERVICENOW"


class GenericSeverity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class SourceStatus(StrEnum):
    """What the source says about the alert (Fireline extension)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


# SEV1..SEV4 (store.enums.Severity values); info shares the lowest level.
SEVERITY_LEVEL: dict[GenericSeverity, str] = {
    GenericSeverity.CRITICAL: "SEV1",
    GenericSeverity.HIGH: "SEV2",
    GenericSeverity.MEDIUM: "SEV3",
    GenericSeverity.LOW: "SEV4",
    GenericSeverity.INFO: "SEV4",
}
DEFAULT_SEVERITY = GenericSeverity.MEDIUM

SourceRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Wire(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class Timeline(_Wire):
    start: AwareDatetime
    end: AwareDatetime | None = None
    detected_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Timeline:
        for name in ("end", "resolved_at"):
            value = getattr(self, name)
            if value is not None and value < self.start:
                raise ValueError(f"{to_camel(name)} ({value.isoformat()}) is before start")
        return self


class Metadata(_Wire):
    service: ShortText | None = None
    region: Annotated[str, StringConstraints(max_length=100)] | None = None
    environment: Annotated[str, StringConstraints(max_length=100)] | None = None
    team: Annotated[str, StringConstraints(max_length=200)] | None = None
    # A list of tags, or the guide's object of key -> value (each becomes "key:value").
    tags: Annotated[
        list[Tag],
        Field(max_length=MAX_TAGS),
        BeforeValidator(tags_from_object, json_schema_input_type=list[Tag] | TagObject),
    ] = []
    custom_fields: Annotated[dict[str, Any], Field(max_length=100)] = {}


class EvidenceItem(BaseModel):
    """One metric sample, log line, trace or event. Known keys are typed, others kept."""

    model_config = ConfigDict(
        extra="allow", alias_generator=to_camel, populate_by_name=True, frozen=True
    )

    timestamp: AwareDatetime | None = None
    name: Annotated[str, StringConstraints(max_length=500)] | None = None
    message: Annotated[str, StringConstraints(max_length=5000)] | None = None
    value: Annotated[float, Field(allow_inf_nan=False)] | str | None = None
    trace_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    correlation_key: Annotated[str, StringConstraints(max_length=500)] | None = None


EvidenceList = Annotated[list[EvidenceItem], Field(max_length=MAX_EVIDENCE_ITEMS)]


class EvidenceLite(_Wire):
    metrics: EvidenceList = []
    logs: EvidenceList = []
    traces: EvidenceList = []
    events: EvidenceList = []

    def items(self) -> list[tuple[str, EvidenceItem]]:
        """(kind, item) pairs in a stable order: metrics, logs, traces, events."""
        return [
            (kind, item)
            for kind in ("metrics", "logs", "traces", "events")
            for item in getattr(self, kind)
        ]


class CollectionContext(_Wire):
    window_minutes_before: int = Field(DEFAULT_WINDOW_MINUTES, ge=1, le=120)
    window_minutes_after: int = Field(DEFAULT_WINDOW_MINUTES, ge=1, le=120)
    force_collect: bool = False


class Link(_Wire):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    label: Annotated[str, StringConstraints(max_length=200)] | None = None


class TicketRef(_Wire):
    """The vendor ticket an incident mirrors (Fireline extension): ingestion links it like
    `POST /v1/incidents/{id}/tickets` does, so workflows and sessions can update it."""

    system: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
    id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    url: Annotated[str, StringConstraints(pattern=r"^https?://", max_length=2000)] | None = None


class GenericIncident(_Wire):
    source_type: SourceType
    source_ref: SourceRef
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    timeline: Timeline
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    severity: GenericSeverity | None = None
    metadata: Metadata = Metadata()
    evidence_lite: EvidenceLite = EvidenceLite()
    source_payload: Any = None  # any JSON value, kept as sent in the evidence bundle
    collection_context: CollectionContext = CollectionContext()
    # Fireline extensions, filled by the vendor mappings:
    status: SourceStatus | None = None
    original_severity: Annotated[str, StringConstraints(max_length=64)] | None = None
    links: Annotated[list[Link], Field(max_length=20)] = []
    ticket: TicketRef | None = None

    @property
    def effective_status(self) -> SourceStatus:
        """The explicit status, else resolved when the timeline says so, else open."""
        if self.status is not None:
            return self.status
        return SourceStatus.RESOLVED if self.timeline.resolved_at else SourceStatus.OPEN

    @property
    def severity_level(self) -> str:
        return SEVERITY_LEVEL[self.severity or DEFAULT_SEVERITY]

    @property
    def resolved_at(self) -> datetime | None:
        return self.timeline.resolved_at or (
            self.timeline.end if self.effective_status == SourceStatus.RESOLVED else None
        )
