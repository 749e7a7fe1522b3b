"""Rebuilding snapshots from events reproduces the rows exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from cli.incidents import rebuild
from cli.main import app
from store.db import Database
from store.enums import EventType
from store.incidents import rebuild_all
from store.models import (
    IncidentActionModel,
    IncidentKeyModel,
    IncidentModel,
    IncidentSignalModel,
    SloViolationModel,
)
from tests.store.helpers import append, create_incident


async def all_snapshot_rows(db: Database) -> list[dict[str, Any]]:
    async with db.read_session() as session:
        table = IncidentModel.__table__
        rows = await session.execute(select(table).order_by(table.c.id))
        return [dict(row) for row in rows.mappings().all()]


# The timeline document's events, with every field they carry.
TIMELINE_HISTORY: list[tuple[EventType, dict[str, Any]]] = [
    (
        EventType.SIGNAL_INGESTED,
        {
            "signal_type": "TRACE",
            "source": "tempo",
            "summary": "slow span",
            "service_name": "checkout",
            "environment": "prod",
            "correlation_key": "db-pool",
            "trace_id": "t-1",
            "data": {"ms": 900},
            "ts": "2026-12-01T10:00:00+00:00",
        },
    ),
    (EventType.NOTE_ADDED, {"text": "pool exhausted"}),
    (
        EventType.PLAYBOOK_ACTION_EXECUTED,
        {"action_kind": "COMMAND", "label": "restart", "actor_type": "USER", "details": "ok"},
    ),
    (
        EventType.SLO_VIOLATION_RECORDED,
        {
            "slo_id": "availability",
            "window_start": "2026-12-01T10:00:00+00:00",
            "window_end": "2026-12-01T11:00:00+00:00",
            "error_budget_consumed": 12.5,
            "threshold_breached": True,
            "details": None,
        },
    ),
    (EventType.LINKED_TO_TICKET, {"system": "jira", "id": "OPS-8", "url": "https://j/OPS-8"}),
    (EventType.TAG_REMOVED, {"tag": "payments"}),
    (
        EventType.UPDATED,
        {"changes": {"ended_at": "2026-12-01T12:00:00+00:00", "runbook_path": "rb/db.md"}},
    ),
]
TIMELINE_TABLES = (
    IncidentSignalModel,
    IncidentActionModel,
    SloViolationModel,
    IncidentKeyModel,
)


async def all_timeline_rows(db: Database) -> list[list[dict[str, Any]]]:
    async with db.read_session() as session:
        tables = [model.__table__ for model in TIMELINE_TABLES]
        return [
            [
                dict(row)
                for row in (await session.execute(select(t).order_by(*t.primary_key))).mappings()
            ]
            for t in tables
        ]


async def busy_incidents(db: Database) -> None:
    for org_id in ("acme", "globex"):
        incident_id = await create_incident(
            db,
            org_id,
            service="checkout",
            description="d",
            project_id="shop",
            detected_by="grafana",
            correlation_keys=["gw-500"],
            tags=["component:api"],
            detected_at="2026-12-01T09:59:00+00:00",
            collection_context={"windowMinutesBefore": 30},
        )
        history: list[tuple[EventType, dict[str, Any]]] = [
            (EventType.ENRICHED, {"enrichments": {"target_project": "OPS"}}),
            (EventType.SIGNAL_INGESTED, {"source": "prom", "summary": "5xx", "data": {"v": 1}}),
            (EventType.STATUS_CHANGED, {"from": "OPEN", "to": "RESOLVED"}),
            (EventType.STATUS_CHANGED, {"from": "RESOLVED", "to": "OPEN"}),
            (EventType.PLAYBOOK_ACTION_EXECUTED, {"action": "restart", "details": {}}),
            (EventType.LINKED_TO_TICKET, {"id": "OPS-7", "url": "https://jira/OPS-7"}),
            (EventType.TAG_ADDED, {"tag": "payments"}),
            (EventType.RESOLVED, {}),
            *TIMELINE_HISTORY,
        ]
        for event_type, payload in history:
            await append(db, org_id, incident_id, event_type, payload)
        await create_incident(db, org_id, severity="SEV4")


async def test_rebuild_of_untouched_snapshots_changes_nothing(db: Database) -> None:
    await busy_incidents(db)
    before = await all_snapshot_rows(db)
    async with db.session() as session:
        result = await rebuild_all(session)
    assert (result.rebuilt, result.changed) == (4, 0)
    assert await all_snapshot_rows(db) == before


async def test_rebuild_repairs_corrupted_and_missing_snapshots(db: Database) -> None:
    await busy_incidents(db)
    before = await all_snapshot_rows(db)
    corrupted, deleted = before[0]["id"], before[1]["id"]
    async with db.session() as session:
        await session.execute(
            update(IncidentModel)
            .where(IncidentModel.id == corrupted)
            .values(title="tampered", enrichments={}, correlation_keys=[], last_seq=99)
        )
        await session.delete(await session.get(IncidentModel, deleted))
        session.add(IncidentModel(**{**before[2], "id": "inc_without_events"}))
    async with db.session() as session:
        result = await rebuild_all(session)
    assert (result.rebuilt, result.changed) == (4, 3)
    assert await all_snapshot_rows(db) == before


async def test_rebuild_restores_the_timeline_rows_exactly(db: Database) -> None:
    await busy_incidents(db)
    snapshots, rows = await all_snapshot_rows(db), await all_timeline_rows(db)
    assert [len(table) for table in rows] == [4, 6, 2, 6]  # signals, actions, SLOs, keys
    assert {row["project_id"] for row in snapshots} == {"shop", None}
    async with db.session() as session:
        for model in TIMELINE_TABLES[:3]:
            await session.execute(delete(model).where(model.org_id == "acme"))
        await session.execute(delete(IncidentKeyModel).where(IncidentKeyModel.kind == "tag"))
        globex = next(
            r["id"] for r in snapshots if (r["org_id"], r["service"]) == ("globex", "checkout")
        )
        session.add(IncidentKeyModel(org_id="globex", kind="tag", value="x", incident_id=globex))
        await session.execute(update(IncidentModel).values(correlation_keys=[], ended_at=None))
    async with db.session() as session:
        result = await rebuild_all(session)
    assert (result.rebuilt, result.changed) == (4, 2)  # the two busy incidents
    assert await all_snapshot_rows(db) == snapshots
    assert await all_timeline_rows(db) == rows


async def test_the_cli_rebuild_reports_what_it_fixed(db: Database) -> None:
    await busy_incidents(db)
    async with db.session() as session:
        await session.execute(update(IncidentModel).values(status="CANCELLED"))
    result = await rebuild(db.url)
    assert (result.rebuilt, result.changed) == (4, 4)


def test_the_rebuild_command_migrates_and_prints_counts(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    outcome = CliRunner().invoke(app, ["incidents", "rebuild"], env={"FIRELINE_DATABASE_URL": url})
    assert outcome.exit_code == 0, outcome.output
    assert "Rebuilt 0 incident snapshot(s) from their events; 0 differed" in outcome.output
