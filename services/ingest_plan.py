"""Which events one delivery becomes, computed from what its source said (DESIGN §5).

A first delivery becomes INCIDENT_CREATED carrying everything the source said, then the
link to the ticket it mirrors (if any), the status it reports and its evidence as
signals. A later delivery is compared with what the source said the previous time
(`last_state`), never with the incident alone, and becomes only the source's deltas that
the incident does not show already; an omitted field never counts as a change. See
services/ingestion.py for the transaction around it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from core.errors import ConflictError
from ingest.model import DEFAULT_SEVERITY, EvidenceItem, GenericIncident, SourceStatus
from services.incidents import check_transition
from store.enums import EventType, IncidentStatus
from store.records import IncidentSnapshot

IngestStatus = Literal["created", "updated", "unchanged"]

# The fields a later delivery may change on the incident (through INCIDENT_UPDATED).
SOURCE_UPDATABLE_FIELDS = (
    "description",
    "service",
    "environment",
    "team",
    "region",
    "links",
    "ended_at",
    "detected_at",
    "collection_context",
)


# --- what the source says ---------------------------------------------------------------


def source_state(incident: GenericIncident) -> dict[str, Any]:
    """What the source says now, JSON-ready. None means it says nothing about a field
    (no severity given, no links), so an omission never counts as a change. The title is
    left out: it is never updated (see services/ingestion.py). Times are UTC ISO 8601, so
    the same instant sent with another offset is no change."""
    return {
        "status": incident.effective_status.value,
        "severity": incident.severity_level if incident.severity is not None else None,
        "original_severity": incident.original_severity,
        "description": incident.description,
        "service": incident.metadata.service,
        "environment": incident.metadata.environment,
        "team": incident.metadata.team,
        "region": incident.metadata.region,
        "links": _links(incident) or None,
        "resolved_at": _iso(incident.resolved_at),
        "ended_at": _utc_iso(incident.timeline.end),
        "detected_at": _utc_iso(incident.timeline.detected_at),
        "collection_context": sent_collection_context(incident),
        "tags": sorted(incident.metadata.tags) or None,
        "ticket": incident.ticket.model_dump() if incident.ticket is not None else None,
    }


def merged_state(last: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """What the source said last about each field: new values win, omissions keep old ones."""
    return {**last, **{name: value for name, value in now.items() if value is not None}}


def _links(incident: GenericIncident) -> list[dict[str, Any]]:
    return [{"url": link.url, "label": link.label} for link in incident.links]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _utc_iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def sent_collection_context(incident: GenericIncident) -> dict[str, Any] | None:
    """The collection context with the wire's names and defaults filled in, or None when
    the sender left it out (the defaults alone are not something the sender said)."""
    if "collection_context" not in incident.model_fields_set:
        return None
    return incident.collection_context.model_dump(by_alias=True)


# --- planning: which events a delivery becomes ----------------------------------------------

Planned = tuple[EventType, dict[str, Any]]


@dataclass
class IngestPlan:
    status: IngestStatus
    events: list[Planned] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # "status OPEN → RESOLVED", ...
    notes: list[str] = field(default_factory=list)  # status changes that were skipped
    signal_keys: list[str] = field(default_factory=list)
    evidence_count: int = 0

    def add_signal(self, payload: dict[str, Any]) -> None:
        self.events.append((EventType.SIGNAL_INGESTED, payload))
        self.signal_keys.append(payload["key"])

    def message(self, incident_id: str, incident: GenericIncident) -> str:
        parts = [*self.changes]
        if self.evidence_count:
            plural = "s" if self.evidence_count != 1 else ""
            parts.append(f"{self.evidence_count} new signal{plural}")
        parts.extend(self.notes)
        if self.status == "created":
            source = f"{incident.source_type.value} {incident.source_ref}"
            return "; ".join([f"created incident {incident_id} ({source})", *parts])
        if self.status == "updated":
            return "updated: " + "; ".join(parts)
        return "unchanged: " + "; ".join(parts or ["nothing new since the last delivery"])


def plan_creation(incident: GenericIncident) -> IngestPlan:
    """CREATED, the status the source reports (acknowledged/resolved), then its evidence."""
    plan = IngestPlan(status="created")
    plan.events.append((EventType.CREATED, created_payload(incident)))
    _plan_ticket(plan, source_state(incident), {}, linked=())
    _plan_status(plan, incident, SourceStatus.OPEN, IncidentStatus.OPEN, known_keys=())
    _plan_evidence(plan, incident, known_keys=())
    return plan


def created_payload(incident: GenericIncident) -> dict[str, Any]:
    return {
        "title": incident.title,
        "severity": incident.severity_level,
        "original_severity": incident.original_severity
        or (incident.severity or DEFAULT_SEVERITY).value,
        "description": incident.description,
        "service": incident.metadata.service,
        "environment": incident.metadata.environment,
        "team": incident.metadata.team,
        "region": incident.metadata.region,
        "tags": list(incident.metadata.tags),
        "source_type": incident.source_type.value,
        "source_ref": incident.source_ref,
        "started_at": incident.timeline.start.isoformat(),
        "links": _links(incident),
        "custom_fields": dict(incident.metadata.custom_fields),
        "ended_at": _utc_iso(incident.timeline.end),
        "detected_at": _utc_iso(incident.timeline.detected_at),
        "collection_context": sent_collection_context(incident),
    }


def plan_update(
    incident: GenericIncident,
    last_state: dict[str, Any],
    signal_keys: Sequence[str],
    snapshot: IncidentSnapshot,
) -> IngestPlan:
    """Only what the source changed since `last_state`, and only where the incident differs."""
    plan = IngestPlan(status="unchanged")
    now = source_state(incident)
    _plan_fields(plan, now, last_state, snapshot)
    _plan_tags(plan, now, last_state, snapshot)
    _plan_severity(plan, incident, now, last_state, snapshot)
    _plan_ticket(plan, now, last_state, linked=snapshot.external_refs)
    last_status = SourceStatus(last_state.get("status", SourceStatus.OPEN))
    current = IncidentStatus(snapshot.status)
    _plan_status(plan, incident, last_status, current, known_keys=signal_keys)
    _plan_evidence(plan, incident, known_keys=signal_keys)
    if plan.events:
        plan.status = "updated"
    elif not plan.notes and merged_state(last_state, now) != last_state:
        plan.notes.append("the incident already shows what the source says")
    return plan


def _plan_tags(
    plan: IngestPlan, now: dict[str, Any], last: dict[str, Any], snapshot: IncidentSnapshot
) -> None:
    """Tags the source adds become incident tags; one it stops sending stays (a person may
    rely on it), and one a person removed comes back only if the source sends it anew."""
    said_before = set(last.get("tags") or [])
    added = [t for t in now["tags"] or [] if t not in said_before and t not in snapshot.tags]
    for tag in added:
        plan.events.append((EventType.TAG_ADDED, {"tag": tag}))
    if added:
        plan.changes.append(f"tags {', '.join(added)} added")


def _plan_ticket(
    plan: IngestPlan, now: dict[str, Any], last: dict[str, Any], linked: Sequence[Any]
) -> None:
    """The ticket the source mirrors is linked once (as POST …/tickets links one); a new
    url for it links it again, a url left out is no change."""
    ticket = now["ticket"]
    if ticket is None or ticket == last.get("ticket"):
        return
    for ref in linked:
        same = (ref.get("system"), ref.get("id")) == (ticket["system"], ticket["id"])
        if same and ticket["url"] in (None, ref.get("url")):
            return
    plan.events.append((EventType.LINKED_TO_TICKET, ticket))
    plan.changes.append(f"linked to {ticket['system']} ticket {ticket['id']}")


def _plan_fields(
    plan: IngestPlan, now: dict[str, Any], last: dict[str, Any], snapshot: IncidentSnapshot
) -> None:
    changes = {
        name: now[name]
        for name in SOURCE_UPDATABLE_FIELDS
        if now[name] is not None
        and now[name] != last.get(name)
        and now[name] != _shown(snapshot, name)
    }
    if changes:
        plan.events.append((EventType.UPDATED, {"changes": changes}))
        plan.changes.append(f"{', '.join(changes)} changed")


def _shown(snapshot: IncidentSnapshot, name: str) -> Any:
    """The incident's value of a field in the form `source_state` uses."""
    value = getattr(snapshot, name)
    return _utc_iso(value) if isinstance(value, datetime) else value


def _plan_severity(
    plan: IngestPlan,
    incident: GenericIncident,
    now: dict[str, Any],
    last: dict[str, Any],
    snapshot: IncidentSnapshot,
) -> None:
    level = now["severity"]
    if level is None or level == last.get("severity") or level == snapshot.severity:
        return
    said = incident.original_severity or (incident.severity.value if incident.severity else level)
    reason = f"{incident.source_type.value} severity is now {said}"
    plan.events.append(
        (EventType.SEVERITY_CHANGED, {"from": snapshot.severity, "to": level, "reason": reason})
    )
    plan.changes.append(f"severity {snapshot.severity} → {level}")


# The incident statuses that already satisfy what the source says.
_ALREADY_THERE = {
    IncidentStatus.RESOLVED: {IncidentStatus.RESOLVED},
    IncidentStatus.OPEN: {
        IncidentStatus.OPEN,
        IncidentStatus.INVESTIGATING,
        IncidentStatus.MITIGATED,
    },
    IncidentStatus.INVESTIGATING: {IncidentStatus.INVESTIGATING, IncidentStatus.MITIGATED},
}


def status_targets(last: SourceStatus, now: SourceStatus) -> list[IncidentStatus]:
    """The incident statuses a source moving from `last` to `now` asks for, in order."""
    if now == last:
        return []
    if now == SourceStatus.RESOLVED:
        return [IncidentStatus.RESOLVED]
    targets = [IncidentStatus.OPEN] if last == SourceStatus.RESOLVED else []
    if now == SourceStatus.ACKNOWLEDGED:
        targets.append(IncidentStatus.INVESTIGATING)
    return targets


def _plan_status(
    plan: IngestPlan,
    incident: GenericIncident,
    last: SourceStatus,
    current: IncidentStatus,
    known_keys: Sequence[str],
) -> None:
    now = incident.effective_status
    reason = f"{incident.source_type.value} says {now.value}"
    for target in status_targets(last, now):
        if current in _ALREADY_THERE[target]:
            continue
        try:
            check_transition(current, target)
        except ConflictError:
            _plan_skipped_status(plan, incident, last, current, known_keys)
            return
        payload: dict[str, Any] = {
            "from": current.value,
            "to": target.value,
            "reason": reason,
            "source": incident.source_type.value,  # a source's own resolve, for triage
        }
        if target == IncidentStatus.RESOLVED:
            payload["resolved_at"] = _iso(incident.resolved_at)
        plan.events.append((EventType.STATUS_CHANGED, payload))
        plan.changes.append(f"status {current.value} → {target.value}")
        current = target


def _plan_skipped_status(
    plan: IngestPlan,
    incident: GenericIncident,
    last: SourceStatus,
    current: IncidentStatus,
    known_keys: Sequence[str],
) -> None:
    """Keep the source's word as a signal (once); the incident's own lifecycle wins."""
    now = incident.effective_status
    said = "reopened" if last == SourceStatus.RESOLVED else now.value
    data = {"source_status": said, "incident_status": current.value}
    if incident.resolved_at is not None and now == SourceStatus.RESOLVED:
        data["resolved_at"] = incident.resolved_at.isoformat()
    key = signal_key("events", data)
    if key in known_keys:
        plan.notes.append(f"the incident is {current.value}; the source's '{said}' was not applied")
        return
    plan.add_signal(
        {
            "source": incident.source_type.value,
            "kind": "events",
            "summary": f"{incident.source_type.value} says {said}; not applied: "
            f"the incident is {current.value}",
            "ts": data.get("resolved_at"),
            "trace_id": None,
            "correlation_key": None,
            "data": data,
            "key": key,
        }
    )
    plan.notes.append(
        f"the incident is {current.value}; the source's '{said}' was recorded as a signal only"
    )


def _plan_evidence(plan: IngestPlan, incident: GenericIncident, known_keys: Sequence[str]) -> None:
    seen = {*known_keys, *plan.signal_keys}
    for kind, item in incident.evidence_lite.items():
        payload = evidence_payload(incident, kind, item)
        if payload["key"] in seen:
            continue
        seen.add(payload["key"])
        plan.add_signal(payload)
        plan.evidence_count += 1


def evidence_payload(incident: GenericIncident, kind: str, item: EvidenceItem) -> dict[str, Any]:
    """The SIGNAL_INGESTED payload of one evidence item; `key` identifies its content."""
    data = item.model_dump(by_alias=True, mode="json", exclude_none=True)
    return {
        "source": incident.source_type.value,
        "kind": kind,
        "summary": item.message or item.name or kind,
        "ts": _iso(item.timestamp),
        "trace_id": item.trace_id,
        "correlation_key": item.correlation_key,
        "data": data,
        "key": signal_key(kind, data),
    }


def signal_key(kind: str, data: dict[str, Any]) -> str:
    """First 16 hex digits of SHA-256 over the canonical JSON of kind and data."""
    canonical = json.dumps(
        {"kind": kind, "data": data}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
