"""PagerDuty webhooks: V3 subscriptions (`{"event": ...}`) and legacy V2 (`{"messages": [...]}`).

The incident id (`event.data.id` / `messages[].incident.id`) is the dedup key: it stays the
same through the incident's life, while event and message ids change with every delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingest import severity
from ingest.model import EvidenceItem, GenericIncident, Link, Metadata, SourceStatus, SourceType
from ingest.sources import _build, _fields
from ingest.sources.base import Delivery, PayloadShapeError

SOURCE = "pagerduty"
DELIVERY_ID_HEADER = "x-webhook-id"

OPEN, ACKNOWLEDGED, RESOLVED = SourceStatus.OPEN, SourceStatus.ACKNOWLEDGED, SourceStatus.RESOLVED
_V3_EVENTS = {
    "incident.triggered": OPEN,
    "incident.acknowledged": ACKNOWLEDGED,
    "incident.unacknowledged": OPEN,
    "incident.reopened": OPEN,
    "incident.resolved": RESOLVED,
}
_V2_EVENTS = {
    "incident.trigger": OPEN,
    "incident.acknowledge": ACKNOWLEDGED,
    "incident.unacknowledge": OPEN,
    "incident.resolve": RESOLVED,
}
_INCIDENT_STATUS = {"triggered": OPEN, "acknowledged": ACKNOWLEDGED, "resolved": RESOLVED}


@dataclass(frozen=True)
class _Change:
    """One incident as one delivery (V3 event or V2 message) describes it."""

    incident: dict[str, Any]
    status: SourceStatus | None
    event_name: str
    event_id: str | None
    occurred_at: datetime | None
    resolved_at: datetime | None
    agent: str | None
    number: str | None
    service: str | None


def map_pagerduty(payload: Any, headers: Mapping[str, str], received_at: datetime) -> Delivery:
    body = _fields.require_object(SOURCE, payload)
    if "event" in body:
        return _map_v3(body, headers, received_at)
    if "messages" in body:
        return _map_v2(body, received_at)
    raise PayloadShapeError(
        SOURCE,
        ["event: missing (a V3 webhook sends it)", "messages: missing (a V2 webhook sends it)"],
    )


def _map_v3(body: dict[str, Any], headers: Mapping[str, str], received_at: datetime) -> Delivery:
    delivery_id = headers.get(DELIVERY_ID_HEADER) or _fields.text(body, "event.id")
    shape = _fields.Shape(SOURCE)
    event = shape.object(body, "event")
    resource_type = _fields.text(event, "resource_type")
    if event is not None and resource_type not in (None, "incident"):
        # e.g. "pagey.ping", sent when a subscription is tested: nothing to record.
        note = f"ignored a {_fields.text(event, 'event_type') or resource_type} event"
        return Delivery(incidents=[], delivery_id=delivery_id, notes=[note])
    shape.text(body, "event.data.id")
    shape.text(body, "event.data.title")
    shape.check()
    return Delivery(
        incidents=[_incident(_v3_change(event or {}), received_at)], delivery_id=delivery_id
    )


def _v3_change(event: dict[str, Any]) -> _Change:
    data = _fields.mapping(event, "data")
    event_type = _fields.text(event, "event_type") or "incident.updated"
    occurred_at = _fields.iso_time(event.get("occurred_at"))
    return _Change(
        incident=data,
        status=_V3_EVENTS.get(event_type) or _incident_status(data),
        event_name=event_type,
        event_id=_fields.text(event, "id"),
        occurred_at=occurred_at,
        # The V3 incident has no resolve time: the resolved event's own time is it.
        resolved_at=occurred_at if event_type == "incident.resolved" else None,
        agent=_fields.text(event, "agent.summary"),
        number=_fields.text(data, "number"),
        service=_fields.text(data, "service.summary"),
    )


def _map_v2(body: dict[str, Any], received_at: datetime) -> Delivery:
    messages = _checked_messages(body)
    incidents: dict[str, GenericIncident] = {}
    for message in messages:
        incident = _incident(_v2_change(message), received_at)
        incidents[incident.source_ref] = incident  # two messages on one incident: keep the last
    ids = [found for found in (_fields.text(message, "id") for message in messages) if found]
    return Delivery(incidents=list(incidents.values()), delivery_id=",".join(ids) or None)


def _checked_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    shape = _fields.Shape(SOURCE)
    messages = shape.array(body, "messages") or []
    for index, message in enumerate(messages):
        where = f"messages[{index}]."
        if not isinstance(message, dict):
            shape.add(f"messages[{index}]: expected an object")
        elif shape.object(message, "incident", where=where) is not None:
            shape.text(message, "incident.id", where=where)
            shape.text(message, "incident.title", where=where)
    shape.check()
    return messages


def _v2_change(message: dict[str, Any]) -> _Change:
    incident = _fields.mapping(message, "incident")
    event_name = _fields.text(message, "event") or "incident.updated"
    status = _V2_EVENTS.get(event_name) or _incident_status(incident)
    occurred_at = _fields.iso_time(message.get("created_on"))
    resolved_at = None
    if status is RESOLVED:
        resolved_at = _fields.iso_time(incident.get("last_status_change_at")) or occurred_at
    log_entries = _fields.items(message, "log_entries")
    return _Change(
        incident=incident,
        status=status,
        event_name=event_name,
        event_id=_fields.text(message, "id"),
        occurred_at=occurred_at,
        resolved_at=resolved_at,
        agent=_fields.text(log_entries[0], "agent.summary") if log_entries else None,
        number=_fields.text(incident, "incident_number"),
        service=_fields.first_text(incident, "service.name", "service.summary"),
    )


def _incident_status(incident: dict[str, Any]) -> SourceStatus | None:
    return _INCIDENT_STATUS.get((_fields.text(incident, "status") or "").lower())


def _incident(change: _Change, received_at: datetime) -> GenericIncident:
    data = change.incident
    ref = _build.source_ref(_fields.text(data, "id") or "")
    title = _build.title(_fields.text(data, "title") or ref)
    description = _fields.text(data, "description")
    return _build.incident(
        source_type=SourceType.PAGERDUTY,
        source_ref=ref,
        title=title,
        description=_build.description(description if description != title else None),
        timeline=_build.timeline(
            _fields.iso_time(data.get("created_at")) or change.occurred_at,
            received_at,
            change.resolved_at,
        ),
        graded=severity.pagerduty(_priority(data), _fields.text(data, "urgency")),
        status=change.status,
        metadata=_metadata(change),
        links=_links(data),
        event=_event(change, title, ref),
    )


def _priority(incident: dict[str, Any]) -> str | None:
    return _fields.first_text(incident, "priority.summary", "priority.name")


def _event(change: _Change, title: str, ref: str) -> EvidenceItem:
    by_agent = f" (by {change.agent})" if change.agent else ""
    return _build.event(
        timestamp=change.occurred_at,
        name=change.event_name,
        message=f"{change.event_name}: {title}{by_agent}",
        correlation_key=ref,
        event_id=change.event_id,
    )


def _metadata(change: _Change) -> Metadata:
    data = change.incident
    teams = _fields.texts(data, "teams", "summary")
    return _build.metadata(
        service=change.service,
        team=", ".join(teams) or None,
        custom_fields={
            "number": change.number,
            "service_id": _fields.text(data, "service.id"),
            "incident_key": _fields.text(data, "incident_key"),
            "urgency": _fields.text(data, "urgency"),
            "priority": _priority(data),
            "escalation_policy": _fields.text(data, "escalation_policy.summary"),
            "alert_keys": _fields.texts(data, "alerts", "alert_key") or None,
        },
    )


def _links(data: dict[str, Any]) -> list[Link]:
    return _build.links(
        [
            (_fields.text(data, "html_url"), "PagerDuty incident"),
            (_fields.text(data, "self"), "PagerDuty API"),
            (_fields.text(data, "conference_bridge.conference_url"), "Conference bridge"),
        ]
    )
