"""Migration 0002: incidents stored before it keep working, and it can be undone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from store import incidents
from store.db import Database
from store.enums import EventType
from store.migrate import alembic_config
from tests.store.helpers import append

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
INGESTION_TABLES = {"incident_sources", "ingest_payloads", "webhook_configs", "webhook_deliveries"}


def _migrate(revision: str) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        if revision == "0001_initial":
            command.downgrade(alembic_config(connection), revision)
        else:
            command.upgrade(alembic_config(connection), revision)

    return run


async def _to(db: Database, revision: str) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(_migrate(revision))


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names)


async def _insert_old_incident(db: Database) -> None:
    """A snapshot row and its CREATED event as release 0001 wrote them."""
    values = {"ts": T0, "payload": '{"title": "Old", "severity": "SEV3"}'}
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO incident_events (org_id, incident_id, seq, ts, type, payload, actor)"
                " VALUES ('acme', 'inc_old', 1, :ts, 'INCIDENT_CREATED', :payload, 'alice')"
            ),
            values,
        )
        await connection.execute(
            text(
                "INSERT INTO incidents (id, org_id, title, description, severity,"
                " original_severity, status, service, environment, enrichments, signals,"
                " actions, tags, created_at, updated_at, resolved_at, last_seq) VALUES"
                " ('inc_old', 'acme', 'Old', NULL, 'SEV3', 'SEV3', 'OPEN', NULL, NULL,"
                " '{}', '[]', '[]', '[]', :ts, :ts, NULL, 1)"
            ),
            {"ts": T0},
        )


async def test_downgrade_removes_what_0002_added(db: Database) -> None:
    await _to(db, "0001_initial")
    assert not INGESTION_TABLES & await _tables(db)
    async with db.engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("incidents")}
        )
    assert not {"team", "links", "custom_fields", "started_at"} & columns


async def test_incidents_from_before_0002_get_empty_links_and_fields(db: Database) -> None:
    await _to(db, "0001_initial")
    await _insert_old_incident(db)

    await _to(db, "head")

    assert await _tables(db) >= INGESTION_TABLES
    async with db.read_session() as session:
        old = await incidents.get_snapshot(session, "acme", "inc_old")
    assert (old.links, old.custom_fields, old.team, old.source_ref, old.started_at) == (
        [],
        {},
        None,
        None,
        None,
    )
    # The old incident takes new events, and a rebuild reproduces it from its old CREATED.
    await append(db, "acme", "inc_old", EventType.UPDATED, {"changes": {"team": "db"}})
    async with db.session() as session:
        result = await incidents.rebuild_all(session)
    assert (result.rebuilt, result.changed) == (1, 0)
