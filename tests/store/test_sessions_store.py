"""The runbook session index: numbering per (org, incident, runbook), lists, lookups."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from store.db import Database
from store.models import RunbookSessionModel
from store.sessions import (
    NUMBERING_ATTEMPTS,
    NewSession,
    NumberingConflictError,
    RunbookSessionRecord,
    get_session,
    insert_next,
    list_sessions,
)


def new(org: str = "acme", incident: str = "inc_1", runbook: str = "restart") -> NewSession:
    return NewSession(
        org_id=org,
        incident_id=incident,
        runbook_id=runbook,
        requester="alice",
        plan_hash="abc123",
        mode="hil",
        confidence=0.75,
        target_connection="web-01",
        target_rule="'web-01' appears in the incident's description",
    )


def make_id(fields: NewSession) -> Callable[[int], str]:
    def session_id(number: int) -> str:
        return f"{fields.org_id}:{fields.incident_id}:runbook:{fields.runbook_id}:{number}"

    return session_id


async def start(db: Database, fields: NewSession) -> RunbookSessionRecord:
    async with db.session() as session:
        return await insert_next(session, fields, make_id(fields))


async def count_rows(db: Database) -> int:
    async with db.read_session() as session:
        return int(await session.scalar(select(func.count()).select_from(RunbookSessionModel)))


async def test_sessions_are_numbered_per_org_incident_and_runbook(db: Database) -> None:
    first = await start(db, new())
    second = await start(db, new())
    assert (first.number, second.number) == (1, 2)
    assert second.session_id == "acme:inc_1:runbook:restart:2"
    assert (await start(db, new(runbook="clear-disk"))).number == 1
    assert (await start(db, new(incident="inc_2"))).number == 1
    assert (await start(db, new(org="globex"))).number == 1
    assert (await start(db, new())).number == 3


async def test_the_record_holds_what_was_given(db: Database) -> None:
    record = await start(db, new())
    async with db.read_session() as session:
        stored = await get_session(session, "acme", record.session_id)
    assert stored is not None
    assert stored.session_id == record.session_id
    assert (stored.requester, stored.mode, stored.confidence) == ("alice", "hil", 0.75)
    assert (stored.target_connection, stored.target_rule) == (
        "web-01",
        "'web-01' appears in the incident's description",
    )
    assert stored.plan_hash == "abc123"


async def test_concurrent_starts_get_distinct_numbers(db: Database) -> None:
    # Each round of collisions has one winner, so this many always fit in the attempts.
    count = NUMBERING_ATTEMPTS
    records = await asyncio.gather(*(start(db, new()) for _ in range(count)))
    assert sorted(r.number for r in records) == list(range(1, count + 1))
    assert len({r.session_id for r in records}) == count


async def test_a_start_that_keeps_colliding_gives_up_and_writes_nothing(db: Database) -> None:
    # Another runbook's row already holds the id this one would get: every attempt collides.
    async with db.session() as session:
        await insert_next(session, new(runbook="other"), lambda n: f"taken:{n}")
    with pytest.raises(NumberingConflictError, match=f"{NUMBERING_ATTEMPTS} concurrent starts"):
        async with db.session() as session:
            await insert_next(session, new(), lambda n: f"taken:{n}")
    assert await count_rows(db) == 1


async def test_a_collision_leaves_the_transaction_usable(db: Database) -> None:
    async with db.session() as session:
        await insert_next(session, new(runbook="other"), lambda n: f"taken:{n}")
    async with db.session() as session:
        with pytest.raises(NumberingConflictError):
            await insert_next(session, new(), lambda n: f"taken:{n}")
        record = await insert_next(session, new(), lambda n: f"free:{n}")
    assert record.session_id == "free:1"
    assert await count_rows(db) == 2


async def test_list_is_newest_first_filtered_and_limited(db: Database) -> None:
    a1 = await start(db, new())
    b1 = await start(db, new(runbook="clear-disk"))
    a2 = await start(db, new())
    other_incident = await start(db, new(incident="inc_2"))
    await start(db, new(org="globex"))
    async with db.read_session() as session:
        everything = await list_sessions(session, "acme")
        by_incident = await list_sessions(session, "acme", incident_id="inc_1")
        by_runbook = await list_sessions(session, "acme", runbook_id="restart")
        both = await list_sessions(session, "acme", incident_id="inc_1", runbook_id="clear-disk")
        first_two = await list_sessions(session, "acme", limit=2)
        next_two = await list_sessions(session, "acme", limit=2, offset=2)
    ids = [r.session_id for r in everything]
    assert ids == [other_incident.session_id, a2.session_id, b1.session_id, a1.session_id]
    assert [r.session_id for r in by_incident] == [a2.session_id, b1.session_id, a1.session_id]
    assert [r.session_id for r in by_runbook] == [
        other_incident.session_id,
        a2.session_id,
        a1.session_id,
    ]
    assert [r.session_id for r in both] == [b1.session_id]
    assert [r.session_id for r in first_two + next_two] == ids


async def test_another_orgs_session_is_not_found(db: Database) -> None:
    record = await start(db, new())
    async with db.read_session() as session:
        assert await get_session(session, "globex", record.session_id) is None
        assert await list_sessions(session, "globex") == []
        assert await get_session(session, "acme", "acme:inc_1:runbook:restart:9") is None
