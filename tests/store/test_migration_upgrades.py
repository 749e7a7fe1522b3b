"""Upgrading a database that holds data, from every earlier revision to the newest: the
incident, its events, its pending dispatch, its workflow run and its notification, written
as the first revision wrote them, are all still there, and the schema is the models'."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, Boolean, Float, Integer, MetaData, Table, text
from sqlalchemy.engine import Connection

from services.incidents import IncidentService
from services.notifications import NotificationFeed
from store.db import Database
from store.migrate import alembic_config
from tests.store.databases import postgres_database, postgres_url
from tests.store.test_migrations import _schema_differences

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CREATED = {
    "title": "Disk full on db-1",
    "severity": "SEV2",
    "tags": ["db"],
    "service": "db",
}
ENRICHED = json.dumps({"enrichments": {"ticket_id": "OPS-1"}})
# The snapshot row as any revision holds it: these values, and for a NOT NULL column a
# later revision added, an empty value of its type.
SNAPSHOT = {
    "id": "inc_old",
    "org_id": "acme",
    "title": "Disk full on db-1",
    "severity": "SEV2",
    "original_severity": "SEV2",
    "status": "OPEN",
    "service": "db",
    "enrichments": {"ticket_id": "OPS-1"},
    "tags": ["db"],
    "created_at": T0,
    "updated_at": T0,
    "last_seq": 2,
}
ROWS = [
    "INSERT INTO incident_events (org_id, incident_id, seq, ts, type, payload, actor)"
    " VALUES ('acme', 'inc_old', 1, :ts, 'INCIDENT_CREATED', :created, 'alice')",
    "INSERT INTO incident_events (org_id, incident_id, seq, ts, type, payload, actor)"
    " VALUES ('acme', 'inc_old', 2, :ts, 'INCIDENT_ENRICHED', :enriched, 'alice')",
    "INSERT INTO outbox (org_id, incident_id, event_seq, event_type,"
    " trigger_event, created_at) VALUES ('acme', 'inc_old', 1, 'INCIDENT_CREATED',"
    " 'created', :ts)",
    "INSERT INTO workflow_runs (run_id, org_id, incident_id, workflow_id, plan_hash,"
    " trigger, event_seq, started_at) VALUES ('acme:inc_old:announce:1', 'acme', 'inc_old',"
    " 'announce', 'h1', 'incident', 1, :ts)",
    "INSERT INTO notifications (org_id, created_at, message, links, incident_id)"
    " VALUES ('acme', :ts, 'Disk full on db-1 opened', '[]', 'inc_old')",
]


def _earlier_revisions() -> list[str]:
    scripts = ScriptDirectory.from_config(alembic_config())
    newest_first = [revision.revision for revision in scripts.walk_revisions()]
    return list(reversed(newest_first[1:]))


def _upgrade_to(revision: str) -> object:
    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    return run


def _insert_snapshot(connection: Connection) -> None:
    incidents = Table("incidents", MetaData(), autoload_with=connection)
    row = {}
    for column in incidents.columns:
        if column.name in SNAPSHOT:
            row[column.name] = SNAPSHOT[column.name]
        elif not column.nullable and column.server_default is None:
            row[column.name] = _empty(column.type)
    connection.execute(incidents.insert().values(**row))


def _empty(column_type: object) -> object:
    if isinstance(column_type, JSON):
        return []
    if isinstance(column_type, Integer | Float):
        return 0
    if isinstance(column_type, Boolean):
        return False
    return ""


async def _populated_at(db: Database, revision: str) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(_upgrade_to(revision))  # type: ignore[arg-type]
        for statement in ROWS:
            await connection.execute(
                text(statement), {"ts": T0, "created": json.dumps(CREATED), "enriched": ENRICHED}
            )
        await connection.run_sync(_insert_snapshot)


async def _check_upgraded(db: Database) -> None:
    await db.migrate()

    incident = await IncidentService(db).get(org_id="acme", incident_id="inc_old")
    assert (incident.title, incident.severity, incident.tags) == (
        "Disk full on db-1",
        "SEV2",
        ["db"],
    )
    assert incident.enrichments["ticket_id"] == "OPS-1"
    events = await IncidentService(db).timeline(org_id="acme", incident_id="inc_old")
    assert [event.type for event in events] == ["INCIDENT_CREATED", "INCIDENT_ENRICHED"]
    [note] = await NotificationFeed(db).recent("acme")
    assert note.message == "Disk full on db-1 opened"
    async with db.engine.connect() as connection:
        runs = await connection.execute(text("SELECT run_id FROM workflow_runs"))
        assert runs.scalars().all() == ["acme:inc_old:announce:1"]
        pending = await connection.execute(text("SELECT event_seq FROM outbox"))
        assert pending.scalars().all() == [1]
        assert await connection.run_sync(_schema_differences) == []


@pytest.mark.parametrize("revision", _earlier_revisions())
async def test_a_populated_sqlite_database_upgrades_from(revision: str, tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await _populated_at(db, revision)
        await _check_upgraded(db)
    finally:
        await db.dispose()


@pytest.mark.parametrize("revision", _earlier_revisions())
async def test_a_populated_postgresql_database_upgrades_from(revision: str) -> None:
    server_url = postgres_url()
    if server_url is None:
        pytest.skip("set FIRELINE_TEST_POSTGRES_URL to run against PostgreSQL")
    async with postgres_database(server_url, migrate=False) as db:
        await _populated_at(db, revision)
        await _check_upgraded(db)
