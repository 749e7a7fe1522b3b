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
