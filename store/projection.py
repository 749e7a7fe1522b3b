"""Pure projection of incident events onto the snapshot row (DESIGN §4).

The snapshot is derived only from events: every value, timestamps included, comes from
an event, so replaying the events always reproduces the same row.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from store.enums import EventType, IncidentStatus

Snapshot = dict[str, Any]

UPDATABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "service",
        "environment",
        "team",
        "region",
        "links",
        "project_id",
        "detected_by",
        "runbook_path",
        "collection_context",
    }
)
# Updatable too, carried as ISO 8601 text in the event and kept as datetimes.
UPDATABLE_TIMESTAMPS = frozenset({"ended_at", "detected_at"})


class EventLike(Protocol):
    @property
    def org_id(self) -> str: ...
    @property
    def incident_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...
    @property
    def actor(self) -> str: ...


def apply_event(snapshot: Snapshot | None, event: EventLike) -> Snapshot:
    """Return the snapshot after `event`; the input is never modified."""
    return apply_event_in_place(copy.deepcopy(snapshot), event)


def apply_event_in_place(snapshot: Snapshot | None, event: EventLike) -> Snapshot:
    """The snapshot after `event`, made by changing `snapshot`: for a caller that owns
    it (copying the whole snapshot for every event of a batch is work done while the
    database's writer is held)."""
    if event.type == EventType.CREATED:
        if snapshot is not None:
            raise ValueError(f"incident {event.incident_id} already exists")
        snapshot = _created(event)
    else:
        if snapshot is None:
            raise ValueError(f"{event.type} for unknown incident {event.incident_id}")
        _APPLIERS[EventType(event.type)](snapshot, event)
    snapshot["updated_at"] = event.ts
    snapshot["last_seq"] = event.seq
    return snapshot


def replay(events: Iterable[EventLike]) -> Snapshot | None:
    snapshot: Snapshot | None = None
    for event in events:
        snapshot = apply_event_in_place(snapshot, event)
    return snapshot


def _created(event: EventLike) -> Snapshot:
    """Fields added after the first release (team... custom_fields) are optional, so
    older CREATED events still replay."""
    payload = event.payload
    resolved = payload.get("status") == IncidentStatus.RESOLVED
    return {
        "id": event.incident_id,
        "org_id": event.org_id,
        "title": payload["title"],
        "description": payload.get("description"),
        "severity": payload["severity"],
        "original_severity": payload.get("original_severity") or payload["severity"],
        "status": payload.get("status", IncidentStatus.OPEN.value),
        "service": payload.get("service"),
        "environment": payload.get("environment"),
        "team": payload.get("team"),
        "region": payload.get("region"),
        "source_type": payload.get("source_type"),
        "source_ref": payload.get("source_ref"),
        "started_at": _timestamp(payload.get("started_at")),
        "links": copy.deepcopy(list(payload.get("links") or [])),
        "custom_fields": copy.deepcopy(dict(payload.get("custom_fields") or {})),
        "enrichments": {},
        "tags": sorted(set(payload.get("tags", []))),
        "created_at": event.ts,
        "resolved_at": _resolved_at(event) if resolved else None,
        "project_id": payload.get("project_id"),
        "detected_by": payload.get("detected_by"),
        "primary_signal_id": None,
        "runbook_path": payload.get("runbook_path"),
        "external_refs": [],
        "correlation_keys": list(dict.fromkeys(payload.get("correlation_keys") or [])),
        "ended_at": _timestamp(payload.get("ended_at")),
        "detected_at": _timestamp(payload.get("detected_at")),
        "collection_context": copy.deepcopy(payload.get("collection_context")),
        "triage": None,
        "triage_status": None,
    }


def signal_id(incident_id: str, seq: int) -> str:
    """A signal's id: its incident and the seq of the event that attached it."""
    return f"{incident_id}-s{seq}"


def _updated(snapshot: Snapshot, event: EventLike) -> None:
    for field, value in event.payload["changes"].items():
        if field in UPDATABLE_FIELDS:
            snapshot[field] = copy.deepcopy(value)
        elif field in UPDATABLE_TIMESTAMPS:
            snapshot[field] = _timestamp(value)


def _status_changed(snapshot: Snapshot, event: EventLike) -> None:
    status = event.payload["to"]
    snapshot["status"] = status
    snapshot["resolved_at"] = _resolved_at(event) if status == IncidentStatus.RESOLVED else None


def _resolved_at(event: EventLike) -> datetime:
    """The resolve time the event carries (a source's own), else when it was recorded."""
    return _timestamp(event.payload.get("resolved_at")) or event.ts


def _timestamp(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone")
    return parsed.astimezone(UTC)


def _severity_changed(snapshot: Snapshot, event: EventLike) -> None:
    snapshot["severity"] = event.payload["to"]


def _tag_added(snapshot: Snapshot, event: EventLike) -> None:
    snapshot["tags"] = sorted({*snapshot["tags"], event.payload["tag"]})


def _tag_removed(snapshot: Snapshot, event: EventLike) -> None:
    snapshot["tags"] = [tag for tag in snapshot["tags"] if tag != event.payload["tag"]]


def _signal_ingested(snapshot: Snapshot, event: EventLike) -> None:
    """The signal itself is a row (store.timeline); the snapshot keeps what it implies."""
    if snapshot["primary_signal_id"] is None:
        snapshot["primary_signal_id"] = signal_id(event.incident_id, event.seq)
    key = event.payload.get("correlation_key")
    if key and key not in snapshot["correlation_keys"]:
        snapshot["correlation_keys"] = [*snapshot["correlation_keys"], key]


def _linked_to_ticket(snapshot: Snapshot, event: EventLike) -> None:
    """One external ref per (system, id): a second link of the same ticket updates its url.
    The ticket_* enrichments follow the newest link, so the Ticket column shows it."""
    ref = {key: event.payload.get(key) for key in ("system", "id", "url")}
    others = [
        existing
        for existing in snapshot["external_refs"]
        if (existing["system"], existing["id"]) != (ref["system"], ref["id"])
    ]
    snapshot["external_refs"] = [*others, {**ref, "linked_at": event.ts.isoformat()}]
    ticket = {"ticket_type": ref["system"], "ticket_id": ref["id"], "ticket_url": ref["url"]}
    snapshot["enrichments"].update({k: v for k, v in ticket.items() if v is not None})


def _enriched(snapshot: Snapshot, event: EventLike) -> None:
    snapshot["enrichments"].update(copy.deepcopy(event.payload["enrichments"]))


def _resolved(snapshot: Snapshot, event: EventLike) -> None:
    snapshot["status"] = IncidentStatus.RESOLVED.value
    snapshot["resolved_at"] = _resolved_at(event)


def _triaged(snapshot: Snapshot, event: EventLike) -> None:
    """Each stage adds what it decided; a new analysis (re-open, correction) starts over."""
    payload = copy.deepcopy(dict(event.payload))
    current = snapshot["triage"] or {}
    if current.get("analysis_id") != payload["analysis_id"]:
        current = {}
    snapshot["triage"] = {**current, **payload, "updated_at": event.ts.isoformat()}
    snapshot["triage_status"] = payload["status"]


def _only_touches(snapshot: Snapshot, event: EventLike) -> None:
    """Notes, actions and SLO violations are timeline rows (store.timeline); the snapshot
    only records that something happened."""


_APPLIERS: dict[EventType, Callable[[Snapshot, EventLike], None]] = {
    EventType.UPDATED: _updated,
    EventType.STATUS_CHANGED: _status_changed,
    EventType.SEVERITY_CHANGED: _severity_changed,
    EventType.TAG_ADDED: _tag_added,
    EventType.TAG_REMOVED: _tag_removed,
    EventType.SIGNAL_INGESTED: _signal_ingested,
    EventType.NOTE_ADDED: _only_touches,
    EventType.PLAYBOOK_ACTION_EXECUTED: _only_touches,
    EventType.SLO_VIOLATION_RECORDED: _only_touches,
    EventType.LINKED_TO_TICKET: _linked_to_ticket,
    EventType.ENRICHED: _enriched,
    EventType.RESOLVED: _resolved,
    EventType.TRIAGED: _triaged,
}
