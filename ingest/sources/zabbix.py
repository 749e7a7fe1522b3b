"""Zabbix webhook media type deliveries: Fireline's media type, and Zulip-style bodies.

Zabbix has no standard body: it posts whatever the media type's script sends. Two
parameter sets are understood: Fireline's (integrations/zabbix/fireline-media-type.yaml:
event_id, event_value, event_nseverity, event_date/event_time...) and Zulip's documented
one (hostname, severity, status, item, trigger, link). A value that is still a macro
("{EVENT.ID}", "{$ZABBIX.URL}") was never expanded by Zabbix and counts as missing.
Zabbix dates carry no time zone; they are read as UTC (run the server in UTC).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ingest import severity
from ingest.model import EvidenceItem, Link, Metadata, SourceStatus, SourceType
from ingest.sources import _build, _fields
from ingest.sources.base import Delivery

SOURCE = "zabbix"
DATE_FORMAT = "%Y.%m.%d %H:%M:%S"  # {EVENT.DATE} {EVENT.TIME}
_RESOLVED_STATUSES = {"OK", "RESOLVED"}
_UPDATED = "1"  # {EVENT.UPDATE.STATUS}: 1 for an acknowledgement/comment/close update


def map_zabbix(payload: Any, headers: Mapping[str, str], received_at: datetime) -> Delivery:
    body = _fields.require_object(SOURCE, payload)
    ref, raw_title = _checked(body)
    title = _build.title(raw_title)
    status = _status(body)
    started_at = _time(body, "event_date", "event_time")
    resolved_at = (
        _time(body, "event_recovery_date", "event_recovery_time")
        if status is SourceStatus.RESOLVED
        else None
    )
    incident = _build.incident(
        source_type=SourceType.ZABBIX,
        source_ref=ref,
        title=title,
        description=_build.description(_value(body, "item"), _value(body, "event_opdata")),
        timeline=_build.timeline(started_at, received_at, resolved_at),
        graded=severity.zabbix(_severity_name(body), _value(body, "event_nseverity")),
        status=status,
        metadata=_metadata(body),
        links=_links(body),
        event=_event(body, status, title, ref, resolved_at),
    )
    return Delivery(incidents=[incident])


def _value(body: dict[str, Any], key: str) -> str | None:
    return _fields.expanded(_fields.text(body, key))


def _severity_name(body: dict[str, Any]) -> str | None:
    return _value(body, "event_severity") or _value(body, "severity")


def _host(body: dict[str, Any]) -> str | None:
    return _value(body, "host_name") or _value(body, "hostname")


def _link_parameter(body: dict[str, Any], name: str) -> str | None:
    """A query parameter of `link` (…/tr_events.php?triggerid=…&eventid=…)."""
    link = _fields.text(body, "link")
    values = parse_qs(urlsplit(link).query).get(name, []) if link else []
    return _fields.expanded(_fields.as_text(values[0])) if values else None


def _trigger_id(body: dict[str, Any]) -> str | None:
    return _value(body, "trigger_id") or _link_parameter(body, "triggerid")


def _checked(body: dict[str, Any]) -> tuple[str, str]:
    """(source_ref, title): {EVENT.ID} (the problem's id, also in its recovery), else
    "trigger-<id>"; the title is the trigger name or the event name."""
    shape = _fields.Shape(SOURCE)
    event_id = _value(body, "event_id")
    trigger_id = _trigger_id(body)
    if event_id is None and trigger_id is None:
        shape.add("event_id: missing (nor trigger_id, nor a link with triggerid=)")
    title = _value(body, "trigger") or _value(body, "event_name")
    if title is None:
        shape.add("trigger: missing (nor event_name)")
    shape.check()
    ref = event_id or f"trigger-{trigger_id}"
    return _build.source_ref(ref), title or ref


def _status(body: dict[str, Any]) -> SourceStatus:
    actions = _update_actions(body)
    if (
        (_value(body, "status") or "").upper() in _RESOLVED_STATUSES
        or _value(body, "event_value") == "0"
        or "closed" in actions
    ):
        return SourceStatus.RESOLVED
    if "acknowledged" in actions:
        return SourceStatus.ACKNOWLEDGED
    return SourceStatus.OPEN


def _update_actions(body: dict[str, Any]) -> set[str]:
    """{EVENT.UPDATE.ACTION} of an update ("acknowledged, commented"), else nothing."""
    if _value(body, "event_update_status") != _UPDATED:
        return set()
    action = _value(body, "event_update_action") or ""
    return {part.strip().lower() for part in action.split(",") if part.strip()}


def _time(body: dict[str, Any], date_key: str, time_key: str) -> datetime | None:
    date, time = _value(body, date_key), _value(body, time_key)
    if date is None or time is None:
        return None
    try:
        return datetime.strptime(f"{date} {time}", DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _tags(body: dict[str, Any]) -> dict[str, str]:
    """{EVENT.TAGSJSON} ([{"tag": ..., "value": ...}]), sent as a JSON string or a list."""
    raw = body.get("event_tags")
    if isinstance(raw, str) and _fields.expanded(raw.strip()):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    found: dict[str, str] = {}
    for item in raw if isinstance(raw, list) else []:
        tag = _fields.text(item, "tag")
        if tag:
            found[tag] = _fields.text(item, "value") or ""
    return found


def _metadata(body: dict[str, Any]) -> Metadata:
    tags = _tags(body)
    host = _host(body)
    return _build.metadata(
        service=_fields.text(tags, "service") or host,
        environment=_fields.first_text(tags, "environment", "env"),
        region=_fields.text(tags, "region"),
        team=_fields.text(tags, "team"),
        tags=[f"{tag}:{value}" if value else tag for tag, value in tags.items()],
        custom_fields={
            "host": host,
            "trigger_id": _trigger_id(body),
            "event_id": _value(body, "event_id"),
            "recovery_event_id": _value(body, "event_recovery_id"),
            "item": _value(body, "item"),
            "zabbix_severity": _severity_name(body),
            "nseverity": _value(body, "event_nseverity"),
            "update_action": _value(body, "event_update_action"),
        },
    )


def _links(body: dict[str, Any]) -> list[Link]:
    base = _value(body, "zabbix_url")
    trigger_id, event_id = _trigger_id(body), _value(body, "event_id")
    built = None
    if base and trigger_id and event_id:
        built = f"{base.rstrip('/')}/tr_events.php?triggerid={trigger_id}&eventid={event_id}"
    return _build.links([(_fields.text(body, "link"), "Zabbix event"), (built, "Zabbix event")])


def _event(
    body: dict[str, Any],
    status: SourceStatus,
    title: str,
    ref: str,
    resolved_at: datetime | None,
) -> EvidenceItem:
    resolved = status is SourceStatus.RESOLVED
    updated = _value(body, "event_update_status") == _UPDATED
    name = "update" if updated else _value(body, "status") or ("OK" if resolved else "PROBLEM")
    action = f" ({_value(body, 'event_update_action')})" if updated else ""
    host = _host(body)
    event_id = (_value(body, "event_recovery_id") if resolved else None) or (
        _link_parameter(body, "eventid") or _value(body, "event_id")
    )
    return _build.event(
        timestamp=resolved_at
        or _time(body, "event_update_date", "event_update_time")
        or _time(body, "event_date", "event_time"),
        name=name,
        message=f"{name}{action}: {title}" + (f" on {host}" if host else ""),
        correlation_key=ref,
        event_id=event_id,
    )
