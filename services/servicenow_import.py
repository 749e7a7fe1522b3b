"""A first sync from ServiceNow: page through an instance's incidents and ingest each one.

Every record goes through the same mapping as the inbound webhook (`ingest.sources`,
source `servicenow`), so an imported incident and a later webhook delivery of the same
record are one Fireline incident (keyed by sys_id), and running the import twice changes
nothing the second time. Records of tickets Fireline itself opened are skipped: they
already belong to a Fireline incident. Pages are read oldest first, by offset.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.servicenow import ServiceNowConnector
from ingest.sources import PayloadShapeError, map_delivery
from services.ingestion import IngestService, RawPayload

SOURCE = "servicenow"
DEFAULT_PAGE_SIZE = 100
ACTOR = "servicenow-import"


@dataclass
class ImportSummary:
    statuses: Counter[str] = field(default_factory=Counter)  # created/updated/unchanged
    skipped: int = 0  # tickets Fireline opened itself
    errors: list[str] = field(default_factory=list)  # "INC0010001: what was wrong"

    @property
    def read(self) -> int:
        return sum(self.statuses.values()) + self.skipped + len(self.errors)


class ServiceNowImporter:
    def __init__(self, connector: ServiceNowConnector, ingest: IngestService) -> None:
        self._connector = connector
        self._ingest = ingest

    async def run(
        self,
        *,
        org_id: str,
        query: str,
        page_size: int = DEFAULT_PAGE_SIZE,
        on_progress: Callable[[int], None] = lambda _done: None,
    ) -> ImportSummary:
        """Import every incident matching the encoded `query`; ConnectorError when the
        instance cannot be read (what was imported before stays imported)."""
        summary = ImportSummary()
        offset = 0
        while True:
            page = await asyncio.to_thread(
                self._connector.list_incidents, query, offset=offset, limit=page_size
            )
            for record in page:
                await self._import_one(org_id, record, summary)
            on_progress(len(page))
            if len(page) < page_size:
                return summary
            offset += page_size

    async def _import_one(
        self, org_id: str, record: dict[str, Any], summary: ImportSummary
    ) -> None:
        label = str(record.get("number") or record.get("sys_id") or "a record")
        try:
            delivery = map_delivery(SOURCE, record, {}, datetime.now(UTC))
        except PayloadShapeError as error:
            summary.errors.append(f"{label}: {error}")
            return
        if not delivery.incidents:
            summary.skipped += 1
            return
        body = json.dumps(record, sort_keys=True).encode()
        outcomes = await self._ingest.ingest_many(
            org_id=org_id,
            actor=ACTOR,
            incidents=delivery.incidents,
            raw=RawPayload(body, "application/json", delivery.delivery_id),
        )
        summary.statuses.update(outcome.status for outcome in outcomes)
