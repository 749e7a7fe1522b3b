"""Listing snapshots: org scoping, filters, keyset pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InvalidInputError, NotFoundError
from store.db import Database
from store.enums import EventType
from store.incident_queries import list_snapshots
from store.incidents import get_snapshot, list_events
from store.records import IncidentFilters
from tests.store.helpers import append, create_incident

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


async def list_ids(db: Database, org_id: str, filters: IncidentFilters | None = None) -> list[str]:
    async with db.read_session() as session:
        page = await list_snapshots(session, org_id, filters or IncidentFilters(), limit=200)
    return [item.id for item in page.items]


async def test_each_org_sees_only_its_own_incidents(db: Database) -> None:
    ours = await create_incident(db, "acme")
    theirs = await create_incident(db, "globex")
    assert await list_ids(db, "acme") == [ours]
    assert await list_ids(db, "globex") == [theirs]
    async with db.read_session() as session:
        with pytest.raises(NotFoundError):
            await get_snapshot(session, "globex", ours)
        assert await list_events(session, "globex", ours) == []


async def test_pages_are_stable_without_duplicates_or_gaps(db: Database) -> None:
    # Three incidents share each created_at, so the id tie-breaker matters.
    keys = []
    for n in range(17):
        created_at = T0 + timedelta(seconds=n // 3)
        keys.append((created_at, await create_incident(db, ts=created_at)))
    seen: list[str] = []
    cursor = None
    async with db.read_session() as session:
        while True:
            page = await list_snapshots(session, "acme", IncidentFilters(), 5, cursor)
            seen += [item.id for item in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
            await create_incident(db, ts=T0 + timedelta(hours=1))  # newer rows do not shift pages
    assert seen == [incident_id for _, incident_id in sorted(keys, reverse=True)]


async def test_an_exact_last_page_has_no_cursor(db: Database) -> None:
    for _ in range(4):
        await create_incident(db)
    async with db.read_session() as session:
        first = await list_snapshots(session, "acme", IncidentFilters(), 2)
        second = await list_snapshots(session, "acme", IncidentFilters(), 2, first.next_cursor)
    assert first.next_cursor is not None
    assert (len(second.items), second.next_cursor) == (2, None)


async def test_a_tampered_cursor_is_invalid_input(db: Database) -> None:
    async with db.read_session() as session:
        with pytest.raises(InvalidInputError, match="cursor"):
            await list_snapshots(session, "acme", IncidentFilters(), 5, "not-a-cursor")


async def test_filters_combine(db: Database) -> None:
    checkout = await create_incident(
        db, title="Checkout 5xx", severity="SEV1", service="checkout", environment="prod"
    )
    await create_incident(db, title="Disk full", severity="SEV3", service="db", environment="prod")
    staging = await create_incident(
        db,
        title="Slow checkout",
        severity="SEV2",
        service="checkout",
        environment="staging",
        description="p99 over 2s",
    )
    await append(db, "acme", staging, EventType.STATUS_CHANGED, {"to": "INVESTIGATING"})

    assert await list_ids(db, "acme", IncidentFilters(service="checkout")) == [staging, checkout]
    assert await list_ids(db, "acme", IncidentFilters(severities=("SEV1",))) == [checkout]
    assert await list_ids(db, "acme", IncidentFilters(environment="staging")) == [staging]
    assert await list_ids(db, "acme", IncidentFilters(statuses=("INVESTIGATING", "MITIGATED"))) == [
        staging
    ]
    assert await list_ids(db, "acme", IncidentFilters(text="CHECKOUT")) == [staging, checkout]
    assert await list_ids(db, "acme", IncidentFilters(text="P99")) == [staging]
    assert await list_ids(db, "acme", IncidentFilters(text="%")) == []
    assert await list_ids(db, "globex", IncidentFilters(service="checkout")) == []
