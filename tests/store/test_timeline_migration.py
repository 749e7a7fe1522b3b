"""Migration 0005: incidents stored before it get their timeline rows and new fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from services.incident_timeline import IncidentTimelineService
from store.db import Database
from store.incident_queries import list_snapshots
from store.migrate import alembic_config
from store.records import IncidentFilters

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
OLD_EVENTS = [
    ("INCIDENT_CREATED", {"title": "Old", "severity": "SEV3", "tags": ["db"]}),
    (
        "INCIDENT_SIGNAL_INGESTED",
        {
            "source": "DATADOG",
            "kind": "logs",
            "summary": "pool exhausted",
            "ts": "2025-06-01T11:59:00+00:00",
            "trace_id": "t-9",
            "correlation_key": "db-pool",
            "data": {"message": "pool exhausted"},
            "key": "abc",
        },
    ),
    ("INCIDENT_PLAYBOOK_ACTION_EXECUTED", {"action": "restart", "result": "ok", "details": {}}),
]


def _downgrade_to_0004(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), "0004_sessions")


async def _insert_as_0004_wrote_it(db: Database) -> None:
    async with db.engine.begin() as connection:
        for seq, (type_, payload) in enumerate(OLD_EVENTS, start=1):
            await connection.execute(
                text(
                    "INSERT INTO incident_events (org_id, incident_id, seq, ts, type, payload,"
                    " actor) VALUES ('acme', 'inc_old', :seq, :ts, :type, :payload, 'alice')"
                ),
                {"seq": seq, "ts": T0, "type": type_, "payload": json.dumps(payload)},
            )
        await connection.execute(
            text(
                "INSERT INTO incidents (id, org_id, title, severity, original_severity, status,"
                " enrichments, signals, actions, tags, created_at, updated_at, last_seq) VALUES"
                " ('inc_old', 'acme', 'Old', 'SEV3', 'SEV3', 'OPEN', '{}', :old, :old, :tags,"
                " :ts, :ts, 3)"
            ),
            {"ts": T0, "old": '[{"seq": 2}]', "tags": '["db"]'},
        )


async def test_upgrading_rebuilds_the_timeline_of_existing_incidents(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(_downgrade_to_0004)
    await _insert_as_0004_wrote_it(db)

    await db.migrate()

    details = await IncidentTimelineService(db).details(org_id="acme", incident_id="inc_old")
    assert [(s["signal_type"], s["trace_id"]) for s in details.signals] == [("LOG", "t-9")]
    assert [(a["action_kind"], a["label"]) for a in details.actions] == [
        ("PLAYBOOK", "restart → ok")
    ]
    assert details.snapshot.correlation_keys == ["db-pool"]
    assert details.snapshot.primary_signal_id == "inc_old-s2"
    async with db.read_session() as session:
        for filters in (IncidentFilters(tag="db"), IncidentFilters(correlation_key="db-pool")):
            page = await list_snapshots(session, "acme", filters, limit=5)
            assert [item.id for item in page.items] == ["inc_old"]


async def test_migrating_a_current_database_rebuilds_nothing(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text("DELETE FROM incident_events"))  # nothing to rebuild
    await _insert_as_0004_wrote_it_at_head(db)
    await db.migrate()
    async with db.read_session() as session:
        count = (await session.execute(text("SELECT count(*) FROM incident_signals"))).scalar()
    assert count == 0  # the event with no rows was not projected: no rebuild ran


async def _insert_as_0004_wrote_it_at_head(db: Database) -> None:
    """An event written behind the projection's back, at the newest revision."""
    payload = json.dumps(OLD_EVENTS[0][1])
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO incident_events (org_id, incident_id, seq, ts, type, payload, actor)"
                " VALUES ('acme', 'inc_x', 1, :ts, 'INCIDENT_CREATED', :payload, 'alice')"
            ),
            {"ts": T0, "payload": payload},
        )
        await connection.execute(
            text(
                "INSERT INTO incident_events (org_id, incident_id, seq, ts, type, payload, actor)"
                " VALUES ('acme', 'inc_x', 2, :ts, 'INCIDENT_SIGNAL_INGESTED', :payload, 'a')"
            ),
            {"ts": T0, "payload": json.dumps(OLD_EVENTS[1][1])},
        )
