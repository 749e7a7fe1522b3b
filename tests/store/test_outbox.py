"""The dispatcher's view of the outbox."""

from __future__ import annotations

from store import outbox
from store.db import Database
from store.enums import EventType
from tests.store.helpers import append, create_incident


async def test_pending_rows_are_oldest_first_until_marked(db: Database) -> None:
    first = await create_incident(db, "acme")
    second = await create_incident(db, "globex")
    await append(db, "acme", first, EventType.SEVERITY_CHANGED, {"to": "SEV1"})
    async with db.session() as session:
        rows = await outbox.pending(session, limit=10)
    assert [(row.incident_id, row.trigger_event) for row in rows] == [
        (first, "created"),
        (second, "created"),
        (first, "severity_changed"),
    ]
    assert rows[2].event_seq == 2 and rows[2].event_type == "INCIDENT_SEVERITY_CHANGED"

    async with db.session() as session:
        assert await outbox.mark_dispatched(session, rows[0].id) is True
        assert await outbox.mark_dispatched(session, rows[0].id) is False
        remaining = await outbox.pending(session, limit=1)
    assert [row.id for row in remaining] == [rows[1].id]
