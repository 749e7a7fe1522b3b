"""Each vendor's severity scale mapped onto GenericSeverity, keeping the vendor's own label.

Every function returns a `Graded`: the generic severity (None when the vendor's value is
not on its scale) and the original label as the vendor spelled it (None when it sent
none). Matching is case-insensitive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ingest.model import GenericSeverity

CRITICAL = GenericSeverity.CRITICAL
HIGH = GenericSeverity.HIGH
MEDIUM = GenericSeverity.MEDIUM
LOW = GenericSeverity.LOW
INFO = GenericSeverity.INFO

_ORIGINAL_LIMIT = 64

PRIORITY: dict[str, GenericSeverity] = {
    "p1": CRITICAL,
    "p2": HIGH,
    "p3": MEDIUM,
    "p4": LOW,
    "p5": INFO,
}
PAGERDUTY_URGENCY: dict[str, GenericSeverity] = {"high": HIGH, "low": LOW}
DATADOG_ALERT_TYPE: dict[str, GenericSeverity] = {
    "error": HIGH,
    "warning": MEDIUM,
    "info": INFO,
    "success": INFO,
}
NEW_RELIC_PRIORITY: dict[str, GenericSeverity] = {
    "critical": CRITICAL,
    "high": HIGH,
    "medium": MEDIUM,
    "low": LOW,
}
# labels.severity of Prometheus/Grafana alert rules: free text, these are the usual words.
ALERT_LABEL: dict[str, GenericSeverity] = {
    **dict.fromkeys(("critical", "page", "emergency", "fatal"), CRITICAL),
    **dict.fromkeys(("error", "high", "major"), HIGH),
    **dict.fromkeys(("warning", "warn", "medium", "average"), MEDIUM),
    **dict.fromkeys(("low", "minor"), LOW),
    **dict.fromkeys(("info", "informational", "none", "debug"), INFO),
}
GOOGLE_CLOUD: dict[str, GenericSeverity] = {"critical": CRITICAL, "error": HIGH, "warning": MEDIUM}
# Zabbix names and their {EVENT.NSEVERITY} numbers; "Not classified" (0) has no equivalent.
ZABBIX: dict[str, GenericSeverity | None] = {
    **dict.fromkeys(("disaster", "5"), CRITICAL),
    **dict.fromkeys(("high", "4"), HIGH),
    **dict.fromkeys(("average", "3"), MEDIUM),
    **dict.fromkeys(("warning", "2"), LOW),
    **dict.fromkeys(("information", "1"), INFO),
    **dict.fromkeys(("not classified", "0"), None),
}

# ServiceNow's priority numbers, their default labels, and its default priority lookup
# (Priority Data Lookup): (impact, urgency) -> priority, each of impact and urgency 1..3.
SERVICENOW_PRIORITY: dict[str, GenericSeverity] = {
    "1": CRITICAL,
    "2": HIGH,
    "3": MEDIUM,
    "4": LOW,
    "5": INFO,
}
SERVICENOW_PRIORITY_LABELS = {
    "1": "1 - Critical",
    "2": "2 - High",
    "3": "3 - Moderate",
    "4": "4 - Low",
    "5": "5 - Planning",
}
SERVICENOW_PRIORITY_LOOKUP = {
    ("1", "1"): "1",
    ("1", "2"): "2",
    ("1", "3"): "3",
    ("2", "1"): "2",
    ("2", "2"): "3",
    ("2", "3"): "4",
    ("3", "1"): "3",
    ("3", "2"): "4",
    ("3", "3"): "5",
}


class Graded(NamedTuple):
    severity: GenericSeverity | None
    original: str | None


UNGRADED = Graded(None, None)


def grade(scale: Mapping[str, GenericSeverity | None], value: str | None) -> Graded:
    """`value` looked up on `scale` (case-insensitive), keeping `value` as the original."""
    if value is None or not value.strip():
        return UNGRADED
    original = value.strip()[:_ORIGINAL_LIMIT]
    return Graded(scale.get(value.strip().lower()), original)


def pagerduty(priority: str | None, urgency: str | None) -> Graded:
    """Priority P1..P5 when the account uses priorities, else the urgency ("urgency:high")."""
    return _priority_or(priority, PAGERDUTY_URGENCY, urgency, "urgency")


def datadog(priority: str | None, alert_type: str | None) -> Graded:
    """$ALERT_PRIORITY P1..P5 when set, else $ALERT_TYPE ("alert_type:warning")."""
    return _priority_or(priority, DATADOG_ALERT_TYPE, alert_type, "alert_type")


def new_relic(priority: str | None) -> Graded:
    return grade(NEW_RELIC_PRIORITY, priority)


def alert_label(severity_label: str | None) -> Graded:
    return grade(ALERT_LABEL, severity_label)


def google_cloud(severity: str | None) -> Graded:
    return grade(GOOGLE_CLOUD, severity)


def zabbix(name: str | None, number: str | None) -> Graded:
    """{EVENT.NSEVERITY} (0..5) wins: Zabbix lets admins rename the severities."""
    by_number = grade(ZABBIX, number)
    if by_number.original is not None and by_number.original in ZABBIX:
        return Graded(by_number.severity, name[:_ORIGINAL_LIMIT] if name else by_number.original)
    return grade(ZABBIX, name)


def servicenow(
    priority: str | None, impact: str | None, urgency: str | None, label: str | None = None
) -> Graded:
    """`priority` 1..5 (`label`, its display value, kept as the original); without one on
    the scale, the priority ServiceNow's default lookup gives `impact` and `urgency`."""
    by_priority = grade(SERVICENOW_PRIORITY, priority)
    if priority is not None and by_priority.severity is not None:
        original = label or SERVICENOW_PRIORITY_LABELS[priority.strip()]
        return Graded(by_priority.severity, original[:_ORIGINAL_LIMIT])
    derived = SERVICENOW_PRIORITY_LOOKUP.get((impact or "", urgency or ""))
    if derived is None:
        return by_priority
    original = f"{SERVICENOW_PRIORITY_LABELS[derived]} (impact {impact}, urgency {urgency})"
    return Graded(SERVICENOW_PRIORITY[derived], original)


def _priority_or(
    priority: str | None,
    fallback_scale: Mapping[str, GenericSeverity | None],
    fallback: str | None,
    prefix: str,
) -> Graded:
    """P1..P5 when `priority` is one; else `fallback` on its scale, labelled "<prefix>:<value>"."""
    by_priority = grade(PRIORITY, priority)
    if by_priority.severity is not None:
        return by_priority
    by_fallback = grade(fallback_scale, fallback)
    return _prefixed(prefix, by_fallback) if by_fallback.original else by_priority


def _prefixed(prefix: str, graded: Graded) -> Graded:
    return Graded(graded.severity, f"{prefix}:{graded.original}"[:_ORIGINAL_LIMIT])
