"""Prometheus Alertmanager `webhook_config` deliveries (the default version "4" body).

One incident per alert, keyed by its fingerprint (or, from senders without one, a hash
of its labels); see ingest.sources.alerting.
"""

from __future__ import annotations

from typing import Any

from ingest.model import SourceType
from ingest.sources import _fields
from ingest.sources.alerting import Flavour, alert_group_mapper

SOURCE = "alertmanager"


def _extra_fields(body: dict[str, Any], alert: dict[str, Any]) -> dict[str, Any]:
    return {
        "truncated_alerts": body.get("truncatedAlerts") or None,
        "external_url": _fields.text(body, "externalURL"),
    }


map_alertmanager = alert_group_mapper(
    Flavour(SOURCE, SourceType.PROMETHEUS, product="Alertmanager", extra_fields=_extra_fields)
)
