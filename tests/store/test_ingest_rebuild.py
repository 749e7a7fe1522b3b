"""`fireline incidents rebuild` reproduces incidents made by ingestion, every column."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from services.incidents import IncidentService
from services.ingestion import IngestService
from store.db import Database
from store.enums import IncidentStatus
from store.incidents import rebuild_all
from store.models import IncidentModel
from tests.services.ingestion_helpers import ACTOR, BASE, ORG, generic, with_metadata


async def all_snapshot_rows(db: Database) -> list[dict[str, Any]]:
    async with db.read_session() as session:
        table = IncidentModel.__table__
        rows = await session.execute(select(table).order_by(table.c.id))
        return [dict(row) for row in rows.mappings().all()]


RESOLVED = {"start": BASE["timeline"]["start"], "resolvedAt": "2025-03-01T12:42:00+02:00"}


async def ingest_everything(db: Database) -> None:
    """Every ingestion feature: all fields, source statuses, deltas, a skipped status."""
    service = IngestService(db)
    people = IncidentService(db)
    await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    later: dict[str, Any] = {
        "description": "now worse",
        "metadata": with_metadata(team="sre", region="us-east-1"),
    }
    deliveries = [
        generic(status="acknowledged", severity="critical", originalSeverity="P1"),
        generic(
            **later,
            links=[{"url": "https://grafana.example/d/1"}],
            evidenceLite={"traces": [{"traceId": "t-1", "name": "GET /pay"}]},
        ),
        generic(**later, status="resolved", timeline=RESOLVED),
        generic(**later, status="open"),
    ]
    for delivery in deliveries:
        await service.ingest(org_id=ORG, actor=ACTOR, incident=delivery)
    cancelled = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=generic(sourceRef="P-cancel", status="acknowledged")
    )
    await people.change_status(
        org_id=ORG,
        incident_id=cancelled.incident_id,
        actor="alice",
        status=IncidentStatus.CANCELLED,
    )
    await service.ingest(
        org_id=ORG,
        actor=ACTOR,
        incident=generic(sourceRef="P-cancel", status="resolved", timeline=RESOLVED),
    )
    await service.ingest_many(
        org_id="globex",
        actor=ACTOR,
        incidents=[generic(), generic(sourceRef="G-2", timeline=RESOLVED)],
    )


async def test_rebuild_after_ingestion_changes_nothing(db: Database) -> None:
    await ingest_everything(db)
    before = await all_snapshot_rows(db)
    assert {row["team"] for row in before} == {"sre", "payments"}
    assert any(row["started_at"] for row in before)
    assert {row["resolved_at"] for row in before} >= {datetime(2025, 3, 1, 10, 42, tzinfo=UTC)}

    async with db.session() as session:
        result = await rebuild_all(session)

    assert (result.rebuilt, result.changed) == (4, 0)
    assert await all_snapshot_rows(db) == before


async def test_rebuild_restores_the_ingestion_columns(db: Database) -> None:
    await ingest_everything(db)
    before = await all_snapshot_rows(db)
    async with db.session() as session:
        await session.execute(
            update(IncidentModel).values(
                team=None,
                region="tampered",
                source_type=None,
                source_ref=None,
                started_at=None,
                links=[],
                custom_fields={"tampered": True},
                resolved_at=None,
            )
        )

    async with db.session() as session:
        result = await rebuild_all(session)

    assert (result.rebuilt, result.changed) == (4, 4)
    assert await all_snapshot_rows(db) == before
