"""The Alertmanager webhook shape (version 4), shared by Alertmanager and Grafana.

One incident per alert: the alert's fingerprint (a hash of its label set, stable between
firing and resolved) is the dedup key; the notification group's `groupKey` only goes into
`custom_fields["group_key"]`, so grouping stays possible without merging distinct alerts.
A firing alert's `endsAt` is a guess (zero time or a future time), so only an alert whose
own status is "resolved" gets a resolve time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingest import severity
from ingest.model import EvidenceItem, GenericIncident, Link, Metadata, SourceStatus, SourceType
from ingest.sources import _build, _fields
from ingest.sources.base import Delivery, Mapper

_STATUS = {"firing": SourceStatus.OPEN, "resolved": SourceStatus.RESOLVED}
_LINK_FIELDS = (
    ("generatorURL", "Source"),
    ("silenceURL", "Silence"),
    ("dashboardURL", "Dashboard"),
    ("panelURL", "Panel"),
)
_MAX_METRICS = 50


@dataclass(frozen=True)
class Flavour:
    """What differs between senders of this shape."""

    source: str  # the webhook source name, for errors
    source_type: SourceType
    product: str  # names the externalURL link
    # (body, alert) -> custom fields this sender adds
    extra_fields: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
    # (body, alert, fingerprint or label hash) -> source_ref; None: the key itself
    source_ref: Callable[[dict[str, Any], dict[str, Any], str], str] | None = None


def alert_group_mapper(flavour: Flavour) -> Mapper:
    """The mapping of one sender of this shape (its headers carry nothing we need)."""

    def map_alert_group(
        payload: Any, headers: Mapping[str, str], received_at: datetime
    ) -> Delivery:
        return _map_alert_group(payload, received_at, flavour)

    return map_alert_group


def _map_alert_group(payload: Any, received_at: datetime, flavour: Flavour) -> Delivery:
    body = _fields.require_object(flavour.source, payload)
    alerts = _checked_alerts(body, flavour.source)
    incidents: dict[str, GenericIncident] = {}
    for alert in alerts:
        incident = _incident(body, alert, received_at, flavour)
        incidents[incident.source_ref] = incident  # a repeated alert: the last one wins
    return Delivery(incidents=list(incidents.values()))


def _checked_alerts(body: dict[str, Any], source: str) -> list[dict[str, Any]]:
    shape = _fields.Shape(source)
    alerts = shape.array(body, "alerts") or []
    for index, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            shape.add(f"alerts[{index}]: expected an object")
        else:
            shape.object(alert, "labels", where=f"alerts[{index}].")
    shape.check()
    return alerts


def alert_key(alert: dict[str, Any]) -> str:
    """The alert's fingerprint, or (older senders) a hash of its sorted labels."""
    return _fields.text(alert, "fingerprint") or _build.label_hash(_fields.mapping(alert, "labels"))


def _incident(
    body: dict[str, Any], alert: dict[str, Any], received_at: datetime, flavour: Flavour
) -> GenericIncident:
    key = alert_key(alert)
    ref = _build.source_ref(flavour.source_ref(body, alert, key) if flavour.source_ref else key)
    labels = _fields.mapping(alert, "labels")
    status = _status(body, alert)
    resolved_at = _fields.iso_time(alert.get("endsAt")) if status is SourceStatus.RESOLVED else None
    started_at = _fields.iso_time(alert.get("startsAt"))
    title = _title(alert)
    return _build.incident(
        source_type=flavour.source_type,
        source_ref=ref,
        title=title,
        description=_build.description(
            _fields.first_text(alert, "annotations.description", "annotations.message")
        ),
        timeline=_build.timeline(started_at, received_at, resolved_at),
        graded=severity.alert_label(_fields.as_text(labels.get("severity"))),
        status=status,
        metadata=_metadata(body, alert, labels, flavour),
        links=_links(body, alert, flavour.product),
        event=_event(status, title, ref, resolved_at or started_at),
        metrics=_metrics(alert, ref),
    )


def _status(body: dict[str, Any], alert: dict[str, Any]) -> SourceStatus:
    own = (_fields.text(alert, "status") or _fields.text(body, "status") or "firing").lower()
    return _STATUS.get(own, SourceStatus.OPEN)


def _title(alert: dict[str, Any]) -> str:
    name = _fields.text(alert, "labels.alertname")
    summary = _fields.first_text(
        alert, "annotations.summary", "annotations.description", "annotations.message"
    )
    parts = [part for part in (name, summary) if part]
    return _build.title(": ".join(parts) if parts else f"Alert {alert_key(alert)}")


def _metadata(
    body: dict[str, Any], alert: dict[str, Any], labels: dict[str, Any], flavour: Flavour
) -> Metadata:
    def label(*names: str) -> str | None:
        return _fields.first_text(labels, *names)

    return _build.metadata(
        service=label("service", "job", "app"),
        environment=label("environment", "env"),
        region=label("region", "zone", "cluster"),
        team=label("team"),
        tags=_build.kv_tags(labels),
        custom_fields={
            "group_key": _fields.text(body, "groupKey"),
            "receiver": _fields.text(body, "receiver"),
            "fingerprint": _fields.text(alert, "fingerprint"),
            "labels": labels,
            "annotations": _fields.mapping(alert, "annotations") or None,
            **flavour.extra_fields(body, alert),
        },
    )


def _links(body: dict[str, Any], alert: dict[str, Any], product: str) -> list[Link]:
    base = _fields.text(body, "externalURL")
    candidates = [
        (_build.absolute_url(_fields.text(alert, key), base), label) for key, label in _LINK_FIELDS
    ]
    candidates.append((_fields.text(alert, "annotations.runbook_url"), "Runbook"))
    candidates.append((base, product))
    return _build.links(candidates)


def _event(status: SourceStatus, title: str, ref: str, timestamp: datetime | None) -> EvidenceItem:
    name = "resolved" if status is SourceStatus.RESOLVED else "firing"
    return _build.event(
        timestamp=timestamp, name=name, message=f"{name}: {title}", correlation_key=ref
    )


def _metrics(alert: dict[str, Any], ref: str) -> list[EvidenceItem]:
    """Grafana's evaluated `values` (one item per query ref) and its `valueString`."""
    found = [
        _build.metric(name=str(name), value=value, correlation_key=ref)
        for name, value in _fields.mapping(alert, "values").items()
        if isinstance(value, int | float | str) and not isinstance(value, bool)
    ][:_MAX_METRICS]
    value_string = _fields.text(alert, "valueString")
    if value_string:
        found.append(_build.metric(name="valueString", value=value_string, correlation_key=ref))
    return found
