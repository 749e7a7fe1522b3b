"""Builders and row counts shared by the ingestion tests."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ingest.model import GenericIncident
from store import incidents, payloads, timeline
from store.db import Database
from store.models import (
    EvidenceBundleModel,
    IncidentEventModel,
    IncidentModel,
    IncidentSignalModel,
    IncidentSourceModel,
    IngestPayloadModel,
    OutboxModel,
)
from store.records import IncidentSnapshot, StoredEvent, StoredPayload
from tests.store.helpers import count_rows

ORG = "acme"
ACTOR = "ingest:test"

BASE: dict[str, Any] = {
    "sourceType": "PAGERDUTY",
    "sourceRef": "P123",
    "title": "Checkout 5xx above 2%",
    "timeline": {"start": "2025-03-01T10:00:00Z"},
    "description": "checkout returns 502",
    "severity": "high",
    "metadata": {
        "service": "checkout",
        "region": "eu-west-1",
        "environment": "prod",
        "team": "payments",
        "tags": ["web", "checkout", "web"],
        "customFields": {"runbook": "rb-12", "priority": 2},
    },
    "originalSeverity": "P2",
    "links": [{"url": "https://pd.example/incidents/P123", "label": "PagerDuty"}],
    "evidenceLite": {
        "metrics": [
            {
                "timestamp": "2025-03-01T09:59:00Z",
                "name": "http_5xx_ratio",
                "value": 0.031,
                "unit": "ratio",
            }
        ],
        "logs": [{"message": "upstream timed out", "traceId": "abc123"}],
    },
}


def generic(**overrides: Any) -> GenericIncident:
    """BASE with top-level keys replaced (None removes a key)."""
    body = copy.deepcopy(BASE)
    for name, value in overrides.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return GenericIncident.model_validate(body)


def with_metadata(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(BASE["metadata"]), **changes}


@dataclass(frozen=True)
class Counts:
    incidents: int
    events: int
    outbox: int
    sources: int
    payloads: int
    bundles: int


async def counts(db: Database) -> Counts:
    async with db.read_session() as session:
        return Counts(
            incidents=await count_rows(session, IncidentModel),
            events=await count_rows(session, IncidentEventModel),
            outbox=await count_rows(session, OutboxModel),
            sources=await count_rows(session, IncidentSourceModel),
            payloads=await count_rows(session, IngestPayloadModel),
            bundles=await count_rows(session, EvidenceBundleModel),
        )


async def snapshot(db: Database, incident_id: str, org_id: str = ORG) -> IncidentSnapshot:
    async with db.read_session() as session:
        return await incidents.get_snapshot(session, org_id, incident_id)


async def signals(db: Database, incident_id: str, org_id: str = ORG) -> list[dict[str, Any]]:
    """The incident's signal rows, in event order."""
    async with db.read_session() as session:
        return await timeline.list_rows(session, IncidentSignalModel, org_id, incident_id)


async def events(db: Database, incident_id: str, org_id: str = ORG) -> list[StoredEvent]:
    async with db.read_session() as session:
        return await incidents.list_events(session, org_id, incident_id)


async def outbox_triggers(db: Database, incident_id: str, after_seq: int = 0) -> list[str]:
    async with db.read_session() as session:
        rows = await session.scalars(
            select(OutboxModel)
            .where(OutboxModel.incident_id == incident_id, OutboxModel.event_seq > after_seq)
            .order_by(OutboxModel.id)
        )
        return [row.trigger_event or "" for row in rows]


async def stored_payloads(db: Database, org_id: str = ORG) -> list[StoredPayload]:
    async with db.read_session() as session:
        return list(reversed(await payloads.list_recent(session, org_id)))


async def source_rows(db: Database) -> list[dict[str, Any]]:
    async with db.read_session() as session:
        table = IncidentSourceModel.__table__
        result = await session.execute(select(table).order_by(table.c.source_ref))
        return [dict(row) for row in result.mappings().all()]
