"""New Relic workflow webhook deliveries (the default payload template, plus optional keys).

Optional template keys this mapping reads when present: `acknowledgedAt`, `closedAt`
(epoch ms) and `tags` (e.g. `{{json accumulations.tag}}`: an object of tag -> value(s)).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ingest import severity
from ingest.model import EvidenceItem, Metadata, SourceStatus, SourceType
from ingest.sources import _build, _fields
from ingest.sources.base import Delivery

SOURCE = "newrelic"
CLOSED = "CLOSED"
ACKNOWLEDGED = "ACKNOWLEDGED"
ACTIVATED = "ACTIVATED"
USER_ACTION = "USER_ACTION"


def map_newrelic(payload: Any, headers: Mapping[str, str], received_at: datetime) -> Delivery:
    body = _fields.require_object(SOURCE, payload)
    issue_id, raw_title = _fields.required_texts(SOURCE, body, "id", "title")
    ref = _build.source_ref(issue_id)
    title = _build.title(raw_title)
    status = _status(body)
    resolved_at = (
        (_time(body, "closedAt") or _time(body, "updatedAt"))
        if status is SourceStatus.RESOLVED
        else None
    )
    incident = _build.incident(
        source_type=SourceType.NEW_RELIC,
        source_ref=ref,
        title=title,
        timeline=_build.timeline(_time(body, "createdAt"), received_at, resolved_at),
        graded=severity.new_relic(_fields.text(body, "priority")),
        status=status,
        metadata=_metadata(body),
        links=_build.links([(_fields.text(body, "issueUrl"), "New Relic issue")]),
        event=_event(body, title, ref),
    )
    return Delivery(incidents=[incident])


def _event(body: dict[str, Any], title: str, ref: str) -> EvidenceItem:
    state = (_fields.text(body, "state") or "UPDATED").upper()
    trigger = _fields.text(body, "trigger")
    return _build.event(
        timestamp=_time(body, "updatedAt"),
        name=trigger or state,
        message=f"{state}" + (f" ({trigger})" if trigger else "") + f": {title}",
        correlation_key=ref,
    )


def _time(body: dict[str, Any], key: str) -> datetime | None:
    return _fields.epoch_time(body.get(key), milliseconds=True)


def _status(body: dict[str, Any]) -> SourceStatus:
    """CLOSED resolves; an acknowledgement is state ACKNOWLEDGED, an `acknowledgedAt`, or
    (as New Relic sends it by default) state ACTIVATED changed by a USER_ACTION."""
    state = (_fields.text(body, "state") or "").upper()
    if state == CLOSED:
        return SourceStatus.RESOLVED
    trigger = (_fields.text(body, "trigger") or "").upper()
    acknowledged_by_user = state == ACTIVATED and trigger == USER_ACTION
    if state == ACKNOWLEDGED or _time(body, "acknowledgedAt") or acknowledged_by_user:
        return SourceStatus.ACKNOWLEDGED
    return SourceStatus.OPEN


def _tag_values(body: dict[str, Any]) -> dict[str, str]:
    """`tags` as key -> first value (accumulations hold a list of values per tag)."""
    found: dict[str, str] = {}
    for key, value in _fields.mapping(body, "tags").items():
        first = value[0] if isinstance(value, list) and value else value
        text = _fields.as_text(first)
        if text is not None:
            found[str(key)] = text
    return found


def _metadata(body: dict[str, Any]) -> Metadata:
    entities = _fields.texts(body, "impactedEntities")
    tags = _tag_values(body)
    return _build.metadata(
        service=_fields.text(tags, "service") or (entities[0] if entities else None),
        environment=_fields.first_text(tags, "environment", "env"),
        region=_fields.text(tags, "region"),
        team=_fields.text(tags, "team"),
        tags=_build.kv_tags(tags),
        custom_fields={
            "state": _fields.text(body, "state"),
            "trigger": _fields.text(body, "trigger"),
            "impacted_entities": entities or None,
            "alert_policy_names": _fields.texts(body, "alertPolicyNames") or None,
            "alert_condition_names": _fields.texts(body, "alertConditionNames") or None,
            "workflow_name": _fields.text(body, "workflowName"),
            "total_incidents": _fields.text(body, "totalIncidents"),
            "is_correlated": _fields.as_bool(body.get("isCorrelated")),
            "sources": _fields.texts(body, "sources") or None,
        },
    )
