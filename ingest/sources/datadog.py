"""Datadog Webhooks integration deliveries, with Fireline's payload template.

The body is a template the user writes; integrations/datadog/webhook-payload.json is the
one this mapping expects. Datadog's default template carries no monitor id, so it is
refused with a shape error that says what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ingest import severity
from ingest.model import EvidenceItem, Link, Metadata, SourceStatus, SourceType
from ingest.sources import _build, _fields
from ingest.sources.base import Delivery

SOURCE = "datadog"
RECOVERED = "recovered"

# "[P2] [Triggered] ", "[Recovered] ", "[Triggered on {host:a}] ": Datadog's own prefixes.
_TITLE_PREFIX = re.compile(
    r"^(?:\s*\[(?:P[1-5]|(?:Re-)?Triggered|(?:Re-)?Warn|Warning|(?:Re-)?No Data|Recovered"
    r"|Renotify|Alert|OK)(?: on [^\]]*)?\])+\s*",
    re.IGNORECASE,
)
_MONITOR_LINK = re.compile(r"\[Monitor Status\]\((https?://[^)\s]+)\)")
_MARKDOWN_FENCE = "%%%"


def map_datadog(payload: Any, headers: Mapping[str, str], received_at: datetime) -> Delivery:
    body = _fields.require_object(SOURCE, payload)
    ref = _build.source_ref(_checked_ref(body))
    title = _title(_fields.text(body, "title") or ref)
    status = _status(_fields.text(body, "alert_transition"), _fields.text(body, "alert_type"))
    occurred_at = _epoch_ms(body, "date") or _epoch_ms(body, "last_updated")
    incident = _build.incident(
        source_type=SourceType.DATADOG,
        source_ref=ref,
        title=title,
        description=_description(_fields.text(body, "body")),
        timeline=_build.timeline(
            occurred_at, received_at, occurred_at if status is SourceStatus.RESOLVED else None
        ),
        graded=severity.datadog(_fields.text(body, "severity"), _fields.text(body, "alert_type")),
        status=status,
        metadata=_metadata(body),
        links=_links(body),
        event=_event(body, title, ref, occurred_at),
    )
    return Delivery(incidents=[incident], delivery_id=_fields.text(body, "id"))


def _epoch_ms(body: dict[str, Any], key: str) -> datetime | None:
    return _fields.epoch_time(body.get(key), milliseconds=True)


def _event(
    body: dict[str, Any], title: str, ref: str, occurred_at: datetime | None
) -> EvidenceItem:
    name = _fields.first_text(body, "alert_transition", "event_type") or "notification"
    return _build.event(
        timestamp=occurred_at,
        name=name,
        message=f"{name}: {title}",
        correlation_key=ref,
        event_id=_fields.text(body, "id"),
    )


def _checked_ref(body: dict[str, Any]) -> str:
    """$ALERT_CYCLE_KEY when the template has it, else "<monitor_id>:<scopes>"."""
    shape = _fields.Shape(SOURCE)
    cycle_key = _fields.expanded(_fields.text(body, "alert_cycle_key"))
    monitor_id = _fields.expanded(_fields.text(body, "monitor_id"))
    if cycle_key is None and monitor_id is None:
        shape.add(
            "monitor_id: missing (and no alert_cycle_key); Datadog's default template has "
            "neither: use Fireline's payload template"
        )
    shape.text(body, "title")
    shape.check()
    return cycle_key or f"{monitor_id}:{_fields.text(body, 'scopes') or ''}"


def _title(title: str) -> str:
    return _build.title(_TITLE_PREFIX.sub("", title).strip() or title)


def _status(transition: str | None, alert_type: str | None) -> SourceStatus:
    if transition is not None:
        return SourceStatus.RESOLVED if transition.lower() == RECOVERED else SourceStatus.OPEN
    return SourceStatus.RESOLVED if (alert_type or "").lower() == "success" else SourceStatus.OPEN


def _description(body: str | None) -> str | None:
    """The message markdown without Datadog's "%%%" fences."""
    return _build.description(body.replace(_MARKDOWN_FENCE, "") if body else None)


def _tag_list(value: Any) -> list[str]:
    """$TAGS and $ALERT_SCOPE are comma-separated; a template may also send a JSON list."""
    raw = value if isinstance(value, list) else str(value or "").split(",")
    return [tag for tag in (_fields.as_text(item) for item in raw) if tag]


def _metadata(body: dict[str, Any]) -> Metadata:
    scopes = _tag_list(body.get("scopes"))
    tags = _tag_list(body.get("tags"))
    values = dict(tag.split(":", 1) for tag in [*scopes, *tags] if ":" in tag)
    return _build.metadata(
        service=_fields.text(values, "service"),
        environment=_fields.first_text(values, "environment", "env"),
        region=_fields.text(values, "region"),
        team=_fields.text(values, "team"),
        tags=tags,
        custom_fields={
            "monitor_id": _fields.text(body, "monitor_id"),
            "event_id": _fields.text(body, "id"),
            "event_type": _fields.text(body, "event_type"),
            "alert_type": _fields.text(body, "alert_type"),
            "alert_transition": _fields.text(body, "alert_transition"),
            "alert_query": _fields.text(body, "alert_query"),
            "scopes": _fields.text(body, "scopes"),
            "alert_cycle_key": _fields.expanded(_fields.text(body, "alert_cycle_key")),
            "aggreg_key": _fields.expanded(_fields.text(body, "aggreg_key")),
            "org_id": _fields.text(body, "org.id"),
        },
    )


def _links(body: dict[str, Any]) -> list[Link]:
    monitor = _MONITOR_LINK.search(_fields.text(body, "body") or "")
    return _build.links(
        [
            (_fields.text(body, "url"), "Datadog event"),
            (monitor.group(1) if monitor else None, "Datadog monitor"),
        ]
    )
