"""Grafana unified alerting "Webhook" contact point deliveries (Alertmanager shape + extras).

One incident per alert, keyed by "<orgId>:<fingerprint>"; see ingest.sources.alerting.
"""

from __future__ import annotations

from typing import Any

from ingest.model import SourceType
from ingest.sources import _fields
from ingest.sources.alerting import Flavour, alert_group_mapper

SOURCE = "grafana"
DEFAULT_ORG_ID = "1"


def _org_id(body: dict[str, Any], alert: dict[str, Any]) -> str:
    """The alert's orgId (Grafana 12), else the delivery's, else Grafana's default org 1."""
    return _fields.text(alert, "orgId") or _fields.text(body, "orgId") or DEFAULT_ORG_ID


def _source_ref(body: dict[str, Any], alert: dict[str, Any], key: str) -> str:
    # Fingerprints are per org: the same labels in two orgs are two different alerts.
    return f"{_org_id(body, alert)}:{key}"


def _extra_fields(body: dict[str, Any], alert: dict[str, Any]) -> dict[str, Any]:
    return {
        "org_id": _org_id(body, alert),
        "group_state": _fields.text(body, "state"),
        "grafana_version": _fields.text(body, "appVersion"),
    }


map_grafana = alert_group_mapper(
    Flavour(
        SOURCE,
        SourceType.GRAFANA,
        product="Grafana",
        extra_fields=_extra_fields,
        source_ref=_source_ref,
    )
)
