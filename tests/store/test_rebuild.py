"""Rebuilding snapshots from events reproduces the rows exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from typer.testing import CliRunner

from cli.incidents import rebuild
from cli.main import app
from store.db import Database
from store.enums import EventType
from store.incidents import rebuild_all
from store.models import IncidentModel
from tests.store.helpers import append, create_incident


async def all_snapshot_rows(db: Database) -> list[dict[str, Any]]:
    async with db.read_session() as session:
        table = IncidentModel.__table__
        rows = await session.execute(select(table).order_by(table.c.id))
        return [dict(row) for row in rows.mappings().all()]


async def busy_incidents(db: Database) -> None:
    for org_id in ("acme", "globex"):
        incident_id = await create_incident(db, org_id, service="checkout", description="d")
        history: list[tuple[EventType, dict[str, Any]]] = [
            (EventType.ENRICHED, {"enrichments": {"target_project": "OPS"}}),
            (EventType.SIGNAL_INGESTED, {"source": "prom", "summary": "5xx", "data": {"v": 1}}),
            (EventType.STATUS_CHANGED, {"from": "OPEN", "to": "RESOLVED"}),
            (EventType.STATUS_CHANGED, {"from": "RESOLVED", "to": "OPEN"}),
            (EventType.PLAYBOOK_ACTION_EXECUTED, {"action": "restart", "details": {}}),
            (EventType.LINKED_TO_TICKET, {"id": "OPS-7", "url": "https://jira/OPS-7"}),
            (EventType.TAG_ADDED, {"tag": "payments"}),
            (EventType.RESOLVED, {}),
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
            .values(title="tampered", enrichments={}, signals=[], last_seq=99)
        )
        await session.delete(await session.get(IncidentModel, deleted))
        session.add(IncidentModel(**{**before[2], "id": "inc_without_events"}))
    async with db.session() as session:
        result = await rebuild_all(session)
    assert (result.rebuilt, result.changed) == (4, 3)
    assert await all_snapshot_rows(db) == before


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
