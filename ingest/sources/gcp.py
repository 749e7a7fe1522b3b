"""Google Cloud Monitoring webhook notification channel deliveries (schema version 1.2)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ingest import severity
from ingest.model import Link, Metadata, SourceStatus, SourceType
from ingest.sources import _build, _fields
from ingest.sources.base import Delivery

SOURCE = "gcp"
CLOSED = "closed"


def map_gcp(payload: Any, headers: Mapping[str, str], received_at: datetime) -> Delivery:
    body = _fields.require_object(SOURCE, payload)
    (incident_id,) = _fields.required_texts(SOURCE, body, "incident.incident_id")
    data = _fields.mapping(body, "incident")
    ref = _build.source_ref(incident_id)
    # "Send test notification" deliveries say "OPEN": the state is case-insensitive.
    state = (_fields.text(data, "state") or "open").lower()
    status = SourceStatus.RESOLVED if state == CLOSED else SourceStatus.OPEN
    started_at = _seconds(data, "started_at")
    resolved_at = _seconds(data, "ended_at") if status is SourceStatus.RESOLVED else None
    summary = _fields.text(data, "summary")
    incident = _build.incident(
        source_type=SourceType.GOOGLE_CLOUD,
        source_ref=ref,
        title=_title(data, ref),
        description=_build.description(summary, _fields.text(data, "documentation.content")),
        timeline=_build.timeline(started_at, received_at, resolved_at),
        graded=severity.google_cloud(_fields.text(data, "severity")),
        status=status,
        metadata=_metadata(data),
        links=_links(data),
        event=_build.event(
            timestamp=resolved_at or started_at,
            name=f"incident.{state}",
            message=f"{state}: {summary or _title(data, ref)}",
            correlation_key=ref,
        ),
    )
    return Delivery(incidents=[incident])


def _seconds(data: dict[str, Any], key: str) -> datetime | None:
    return _fields.epoch_time(data.get(key), milliseconds=False)


def _title(data: dict[str, Any], ref: str) -> str:
    """ "<policy>: <condition>" (stable between open and closed), else the summary."""
    names = [_fields.text(data, "policy_name"), _fields.text(data, "condition_name")]
    present = [name for name in names if name]
    fallback = _fields.first_text(data, "summary", "documentation.subject")
    return _build.title(": ".join(present) if present else fallback or f"Incident {ref}")


def _metadata(data: dict[str, Any]) -> Metadata:
    labels = {
        **_fields.mapping(data, "policy_user_labels"),
        **_fields.mapping(data, "metadata.user_labels"),
    }
    resource = _fields.mapping(data, "resource.labels")
    return _build.metadata(
        service=_fields.text(labels, "service")
        or _fields.first_text(resource, "service_name", "service")
        or _fields.text(data, "resource_display_name"),
        environment=_fields.first_text(labels, "environment", "env"),
        region=_fields.first_text(resource, "zone", "region", "location"),
        team=_fields.text(labels, "team"),
        tags=_build.kv_tags(labels),
        custom_fields={
            "project_id": _fields.text(resource, "project_id")
            or _fields.text(data, "scoping_project_id"),
            "scoping_project_id": _fields.text(data, "scoping_project_id"),
            "policy_name": _fields.text(data, "policy_name"),
            "condition_name": _fields.text(data, "condition_name"),
            "condition": _fields.text(data, "condition.name"),
            "resource_type": _fields.text(data, "resource.type"),
            "resource_name": _fields.text(data, "resource_name"),
            "metric_type": _fields.text(data, "metric.type"),
            "threshold_value": _fields.text(data, "threshold_value"),
            "observed_value": _fields.text(data, "observed_value"),
        },
    )


def _links(data: dict[str, Any]) -> list[Link]:
    documented = [
        (_fields.text(link, "url"), _fields.text(link, "displayName") or "Documentation")
        for link in _fields.items(data, "documentation.links")
    ]
    return _build.links([(_fields.text(data, "url"), "Google Cloud incident"), *documented])
