"""Paging through 1,000 incidents under every sort while another task inserts: no row twice,
none of those present at the start skipped, each page in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.errors import InvalidInputError
from services.incidents import IncidentService
from store.db import Database
from store.enums import EventType
from store.incident_queries import SORTS
from store.incidents import append_event
from store.records import IncidentSnapshot

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SEEDED = 1_000
PAGE = 37


async def seed(db: Database, count: int) -> set[str]:
    """`count` incidents, seven per second so created_at ties need the id to break them."""
    ids = set()
    async with db.session() as session:
        for n in range(count):
            incident_id = f"inc_seed_{n:04d}"
            await append_event(
                session,
                org_id="acme",
                incident_id=incident_id,
                type=EventType.CREATED,
                payload={"title": f"seeded {n}", "severity": f"SEV{n % 4 + 1}"},
                actor="seed",
                ts=T0 + timedelta(seconds=n // 7),
            )
            ids.add(incident_id)
    return ids


async def insert_until(db: Database, stop: asyncio.Event, limit: int = 400) -> int:
    inserted = 0
    while not stop.is_set() and inserted < limit:
        async with db.session() as session:
            await append_event(
                session,
                org_id="acme",
                incident_id=f"inc_late_{inserted:04d}",
                type=EventType.CREATED,
                payload={"title": "arrived while paging", "severity": "SEV2"},
                actor="late",
            )
        inserted += 1
        await asyncio.sleep(0)
    return inserted


def sort_key(sort: str, item: IncidentSnapshot) -> tuple[Any, ...]:
    """The item's position under `sort`, as a tuple that ascends in page order."""
    values = []
    for column, descending in SORTS[sort]:
        value = getattr(item, column.key)
        if isinstance(value, datetime):
            value = value.timestamp()
        if descending:
            value = -value if isinstance(value, float) else tuple(-ord(c) for c in value)
        values.append(value)
    return tuple(values)


async def page_through(service: IncidentService, sort: str) -> list[IncidentSnapshot]:
    seen: list[IncidentSnapshot] = []
    cursor = None
    while True:
        page = await service.list(org_id="acme", limit=PAGE, cursor=cursor, sort=sort)
        seen += page.items
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("sort", list(SORTS))
async def test_paging_is_stable_while_rows_are_inserted(db: Database, sort: str) -> None:
    present = await seed(db, SEEDED)
    service = IncidentService(db)
    stop = asyncio.Event()
    inserter = asyncio.create_task(insert_until(db, stop))
    try:
        seen = await page_through(service, sort)
    finally:
        stop.set()
        inserted = await inserter
    ids = [item.id for item in seen]
    assert inserted > 0  # the inserts really overlapped the paging
    assert len(ids) == len(set(ids)), "a row was returned twice"
    assert present <= set(ids), f"skipped: {sorted(present - set(ids))[:5]}"
    keys = [sort_key(sort, item) for item in seen]
    assert keys == sorted(keys)


async def test_a_cursor_only_continues_its_own_sort(db: Database) -> None:
    await seed(db, 5)
    service = IncidentService(db)
    page = await service.list(org_id="acme", limit=2, sort="severity")
    assert page.next_cursor is not None
    with pytest.raises(InvalidInputError, match="made for sort=severity, not sort=-created_at"):
        await service.list(org_id="acme", limit=2, cursor=page.next_cursor)
    with pytest.raises(InvalidInputError, match="sort must be one of"):
        await service.list(org_id="acme", sort="title")
