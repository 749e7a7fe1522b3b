"""Vendor webhook mappings: each turns one source's native payload into generic incidents."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ingest.model import SourceType
from ingest.sources.alertmanager import map_alertmanager
from ingest.sources.base import Delivery, Mapper, PayloadShapeError
from ingest.sources.datadog import map_datadog
from ingest.sources.gcp import map_gcp
from ingest.sources.grafana import map_grafana
from ingest.sources.newrelic import map_newrelic
from ingest.sources.pagerduty import map_pagerduty
from ingest.sources.servicenow import map_servicenow
from ingest.sources.zabbix import map_zabbix

__all__ = [
    "SOURCES",
    "SOURCE_TYPES",
    "Delivery",
    "Mapper",
    "PayloadShapeError",
    "UnknownSourceError",
    "map_delivery",
]

SOURCES: dict[str, Mapper] = {
    "pagerduty": map_pagerduty,
    "datadog": map_datadog,
    "newrelic": map_newrelic,
    "alertmanager": map_alertmanager,
    "grafana": map_grafana,
    "gcp": map_gcp,
    "zabbix": map_zabbix,
    "servicenow": map_servicenow,
}

SOURCE_TYPES: dict[str, SourceType] = {
    "pagerduty": SourceType.PAGERDUTY,
    "datadog": SourceType.DATADOG,
    "newrelic": SourceType.NEW_RELIC,
    "alertmanager": SourceType.PROMETHEUS,
    "grafana": SourceType.GRAFANA,
    "gcp": SourceType.GOOGLE_CLOUD,
    "zabbix": SourceType.ZABBIX,
    "servicenow": SourceType.SERVICENOW,
}


class UnknownSourceError(LookupError):
    """No mapping for this webhook source; the message lists the known ones."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__(
            f"unknown webhook source {source!r}; known sources: {', '.join(sorted(SOURCES))}"
        )


def map_delivery(
    source: str, payload: Any, headers: Mapping[str, str], received_at: datetime
) -> Delivery:
    """Map one delivery of `source` (headers with lower-case names).

    Raises UnknownSourceError for a source without a mapping, PayloadShapeError when the
    body is not that source's shape.
    """
    mapper = SOURCES.get(source)
    if mapper is None:
        raise UnknownSourceError(source)
    return mapper(payload, headers, received_at)
