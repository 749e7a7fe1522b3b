"""ServiceNow incident records, posted by a business rule or an outbound REST message.

The body is the incident record, at the top level or wrapped as `{"result": ...}` (the
Table API's answer) or `{"record": ...}`. A field is a plain string or a Table API
display/value object (`{"value": ..., "display_value": ...}`, reference fields also with a
`link`): names (configuration item, assignment group, caller) are read from the display
value, codes (state, priority, impact, urgency) and times from the value. Times are the
instance's internal "YYYY-MM-DD HH:MM:SS", which is UTC.

`sys_id` is the dedup key: every later delivery of the record updates one incident, which
is linked to the record as its ServiceNow ticket. `<sys_id>:<sys_mod_count>` names one
version of the record, so a retried POST of the same version is absorbed.

A record Fireline opened itself (`correlation_display` "Fireline", or a `correlation_id`
starting with "fireline:", as connectors/servicenow.py creates them) is already a Fireline
incident's ticket: it maps to no incident.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ingest import severity
from ingest.model import (
    EvidenceItem,
    GenericIncident,
    Metadata,
    SourceStatus,
    SourceType,
    TicketRef,
)
from ingest.sources import _build, _fields
from ingest.sources.base import Delivery

SOURCE = "servicenow"
TICKET_SYSTEM = "servicenow"
WRAPPERS = ("result", "record")
FIRELINE_CORRELATION_DISPLAY = "Fireline"
FIRELINE_CORRELATION_PREFIX = "fireline:"
TICKET_ID_LIMIT = 200
INACTIVE = ("false", "0")  # `active` as text, or as GlideRecord.getValue() gives it

OPEN, ACKNOWLEDGED, RESOLVED = SourceStatus.OPEN, SourceStatus.ACKNOWLEDGED, SourceStatus.RESOLVED
# incident.state: its number -> (default label, what it says about the incident).
STATES: dict[str, tuple[str, SourceStatus]] = {
    "1": ("New", OPEN),
    "2": ("In Progress", ACKNOWLEDGED),
    "3": ("On Hold", ACKNOWLEDGED),  # someone owns it; it waits on a caller, vendor or change
    "6": ("Resolved", RESOLVED),
    "7": ("Closed", RESOLVED),
    # Canceled ends the record (inactive, never updated again), so no later delivery could
    # close the incident if it stayed open. Fireline's CANCELLED is a person's decision
    # about the Fireline incident, which a source never makes: resolved, and the evidence
    # event says "Canceled".
    "8": ("Canceled", RESOLVED),
}
_STATE_BY_LABEL = {label.casefold(): code for code, (label, _) in STATES.items()} | {
    "cancelled": "8"
}
_SYS_ID = re.compile(r"[0-9a-f]{32}")
_LEADING_NUMBER = re.compile(r"\s*(\d+)\b")


def map_servicenow(payload: Any, headers: Mapping[str, str], received_at: datetime) -> Delivery:
    record, where = _record(_fields.require_object(SOURCE, payload))
    sys_id, short_description = _checked(record, where)
    delivery_id = _delivery_id(record, sys_id)
    changed_by = _value(record, "sys_updated_by")
    if opened_by_fireline(record):
        note = f"ignored {_number(record) or sys_id}: a ticket Fireline opened for its own incident"
        return Delivery(incidents=[], delivery_id=delivery_id, notes=[note], changed_by=changed_by)
    incident = _incident(record, _build.source_ref(sys_id), short_description, received_at)
    return Delivery(incidents=[incident], delivery_id=delivery_id, changed_by=changed_by)


def opened_by_fireline(record: Mapping[str, Any]) -> bool:
    """Whether the record carries the correlation Fireline's connector gives its tickets."""
    display = _text(record, "correlation_display") or ""
    correlation = _value(record, "correlation_id") or ""
    return display.casefold() == FIRELINE_CORRELATION_DISPLAY.casefold() or (
        correlation.casefold().startswith(FIRELINE_CORRELATION_PREFIX)
    )


def _record(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The incident record, unwrapped from `{"result": ...}` or `{"record": ...}`, and the
    path in front of its fields ("result." or "")."""
    if "sys_id" not in body:
        for key in WRAPPERS:
            inner = body.get(key)
            if isinstance(inner, Mapping):
                return dict(inner), f"{key}."
    return body, ""


def _checked(record: Mapping[str, Any], where: str) -> tuple[str, str]:
    """(sys_id, short_description), or one shape error naming each that is missing."""
    shape = _fields.Shape(SOURCE)
    found = {name: _text(record, name) for name in ("sys_id", "short_description")}
    for name, value in found.items():
        if value is None:
            shape.add(f"{where}{name}: missing")
    shape.check()
    return found["sys_id"] or "", found["short_description"] or ""


def _part(record: Mapping[str, Any], name: str, part: str) -> str | None:
    """One part (`value` or `display_value`) of a display/value object, else the plain value."""
    field = record.get(name)
    if isinstance(field, Mapping):
        return _fields.as_text(field.get(part))
    return _fields.as_text(field)


def _value(record: Mapping[str, Any], name: str) -> str | None:
    return _part(record, name, "value")


def _text(record: Mapping[str, Any], name: str) -> str | None:
    """A text field (the same in both parts): its value, else its display value."""
    return _value(record, name) or _part(record, name, "display_value")


def _name(record: Mapping[str, Any], name: str) -> str | None:
    """A reference's display name; a bare sys_id (the reference without it) names nothing."""
    found = _part(record, name, "display_value") or _value(record, name)
    return None if found is None or _SYS_ID.fullmatch(found) else found


def _code(record: Mapping[str, Any], name: str) -> str | None:
    """A choice's number: "2", or the number that starts its label ("2 - High")."""
    for part in ("value", "display_value"):
        match = _LEADING_NUMBER.match(_part(record, name, part) or "")
        if match:
            return match.group(1)
    return None


def _state(record: Mapping[str, Any]) -> str | None:
    """The state's number, from its value or its label ("In Progress")."""
    label = (_part(record, "state", "display_value") or "").casefold()
    return _code(record, "state") or _STATE_BY_LABEL.get(label)


def _time(record: Mapping[str, Any], *names: str) -> datetime | None:
    for name in names:
        found = _fields.iso_time(_value(record, name))
        if found is not None:
            return found
    return None


def _number(record: Mapping[str, Any]) -> str | None:
    return _text(record, "number")


def _delivery_id(record: Mapping[str, Any], sys_id: str) -> str | None:
    """One version of the record: its modification count, else its update time."""
    version = _value(record, "sys_mod_count") or _value(record, "sys_updated_on")
    return f"{sys_id}:{version}" if version else None


def _status(record: Mapping[str, Any]) -> SourceStatus:
    """The state's status; a state of the instance's own is resolved once inactive."""
    state = STATES.get(_state(record) or "")
    if state is not None:
        return state[1]
    return RESOLVED if (_value(record, "active") or "").lower() in INACTIVE else OPEN


def _state_label(record: Mapping[str, Any]) -> str:
    state = STATES.get(_state(record) or "")
    return state[0] if state else _part(record, "state", "display_value") or "updated"


def _incident(
    record: dict[str, Any], ref: str, short_description: str, received_at: datetime
) -> GenericIncident:
    title = _build.title(short_description)
    status = _status(record)
    resolved_at = _time(record, "resolved_at", "closed_at") if status is RESOLVED else None
    started_at = _time(record, "opened_at", "sys_created_on")
    links = _build.links([(_form_url(record, ref), "ServiceNow incident")])
    ticket_id = _build.cut(_number(record) or ref, TICKET_ID_LIMIT)
    return _build.incident(
        source_type=SourceType.SERVICENOW,
        source_ref=ref,
        title=title,
        description=_build.description(_text(record, "description")),
        timeline=_build.timeline(started_at, received_at, resolved_at),
        graded=_graded(record),
        status=status,
        metadata=_metadata(record),
        links=links,
        event=_event(record, title, ref, resolved_at or _new_at(record, started_at)),
        ticket=TicketRef(system=TICKET_SYSTEM, id=ticket_id, url=links[0].url if links else None),
    )


def _graded(record: Mapping[str, Any]) -> severity.Graded:
    priority = _code(record, "priority")
    label = _part(record, "priority", "display_value")
    return severity.servicenow(
        priority,
        _code(record, "impact"),
        _code(record, "urgency"),
        label=None if label == priority else label,
    )


def _form_url(record: Mapping[str, Any], sys_id: str) -> str | None:
    """The record's form in the instance, when the body says which instance it is."""
    instance = _build.absolute_url(_text(record, "instance_url"))
    return f"{instance.rstrip('/')}/nav_to.do?uri=incident.do?sys_id={sys_id}" if instance else None


def _metadata(record: Mapping[str, Any]) -> Metadata:
    ci = _name(record, "cmdb_ci")
    number, category = _number(record), _text(record, "category")
    return _build.metadata(
        service=ci,
        team=_name(record, "assignment_group"),
        tags=_build.kv_tags({"servicenow": number, "category": category}),
        custom_fields={
            "number": number,
            "sys_id": _text(record, "sys_id"),
            "ci_association": {"ci": ci} if ci else None,
            "caller": _name(record, "caller_id"),
            "category": category,
            "impact": _code(record, "impact"),
            "urgency": _code(record, "urgency"),
        },
    )


def _new_at(record: Mapping[str, Any], started_at: datetime | None) -> datetime | None:
    """A New record's event happened when it was opened; later states carry no time."""
    return started_at if _state(record) == "1" else None


def _event(
    record: Mapping[str, Any], title: str, ref: str, timestamp: datetime | None
) -> EvidenceItem:
    # Made of what the record says, never of its version (sys_updated_on, sys_mod_count):
    # a delivery that changes nothing Fireline shows, after a work note, adds no signal.
    name = _state_label(record)
    details = [
        f"priority {label}" if (label := _graded(record).original) else "",
        f"assigned to {group}" if (group := _name(record, "assignment_group")) else "",
        _closure(record) if _status(record) is RESOLVED else "",
    ]
    summary = ", ".join(detail for detail in details if detail)
    return _build.event(
        timestamp=timestamp,
        name=name,
        message=f"{_number(record) or ref} {name}: {title}" + (f" ({summary})" if summary else ""),
        correlation_key=ref,
    )


def _closure(record: Mapping[str, Any]) -> str:
    code, notes = _text(record, "close_code"), _text(record, "close_notes")
    return ": ".join(part for part in (code, notes) if part)
