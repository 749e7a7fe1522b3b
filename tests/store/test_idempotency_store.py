"""Idempotency keys table: claim, answer, release, forgetting, and racing claims."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select, text

from core.ids import utcnow
from store import idempotency
from store.db import Database
from store.idempotency import IdempotencyRecord
from store.models import IdempotencyKeyModel
from tests.platform.harness import eventually
from tests.store.helpers import count_rows

TTL = timedelta(hours=24)
ABANDONED = timedelta(minutes=5)


async def claim(
    db: Database,
    key: str = "k-1",
    fingerprint: str = "f-1",
    org_id: str = "acme",
    now: datetime | None = None,
) -> IdempotencyRecord | None:
    now = now or utcnow()
    async with db.session() as session:
        return await idempotency.claim_key(
            session,
            org_id=org_id,
            key=key,
            fingerprint=fingerprint,
            now=now,
            forget_before=now - TTL,
            abandoned_before=now - ABANDONED,
        )


async def answer(
    db: Database,
    key: str = "k-1",
    fingerprint: str = "f-1",
    status_code: int = 200,
    response: object = None,
    org_id: str = "acme",
) -> bool:
    async with db.session() as session:
        return await idempotency.store_answer(
            session,
            org_id=org_id,
            key=key,
            fingerprint=fingerprint,
            status_code=status_code,
            response=response if response is not None else {"ok": True},
        )


async def release(db: Database, key: str = "k-1", fingerprint: str = "f-1") -> bool:
    async with db.session() as session:
        return await idempotency.release_key(
            session, org_id="acme", key=key, fingerprint=fingerprint
        )


async def rows(db: Database) -> list[tuple[str, str, str, int | None]]:
    async with db.read_session() as session:
        found = await session.scalars(
            select(IdempotencyKeyModel).order_by(IdempotencyKeyModel.org_id)
        )
        return [(r.org_id, r.key, r.fingerprint, r.status_code) for r in found]


async def blocked_on_a_lock(db: Database) -> bool:
    """PostgreSQL: some session of this database waits for a row lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with db.engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one()) > 0


async def test_the_first_claim_wins_and_a_second_sees_it_in_progress(db: Database) -> None:
    assert await claim(db) is None
    held = await claim(db, fingerprint="f-other")
    assert held is not None
    assert (held.org_id, held.key, held.fingerprint, held.status_code) == (
        "acme",
        "k-1",
        "f-1",
        None,
    )
    assert held.in_progress
    assert await rows(db) == [("acme", "k-1", "f-1", None)]


async def test_a_stored_answer_is_what_a_later_claim_gets(db: Database) -> None:
    assert await claim(db) is None
    body = {"session_id": "acme:i:runbook:r:1", "approved": True, "note": "ünïcode"}
    assert await answer(db, status_code=200, response=body)
    held = await claim(db)
    assert held is not None
    assert (held.status_code, held.response, held.in_progress) == (200, body, False)


async def test_an_answer_is_written_once_and_only_on_the_claim_of_that_request(
    db: Database,
) -> None:
    assert await claim(db) is None
    assert not await answer(db, fingerprint="f-other", status_code=409)
    assert await rows(db) == [("acme", "k-1", "f-1", None)]
    assert await answer(db, status_code=404, response={"detail": "first"})
    assert not await answer(db, status_code=200, response={"detail": "second"})
    held = await claim(db)
    assert held is not None
    assert (held.status_code, held.response) == (404, {"detail": "first"})


async def test_a_released_claim_frees_the_key_and_an_answered_one_cannot_be_released(
    db: Database,
) -> None:
    assert await claim(db) is None
    assert not await release(db, fingerprint="f-other")
    assert await release(db)
    assert await rows(db) == []
    assert await claim(db, fingerprint="f-2") is None  # a new request may use the key
    assert await answer(db, fingerprint="f-2")
    assert not await release(db, fingerprint="f-2")
    assert await rows(db) == [("acme", "k-1", "f-2", 200)]


async def test_keys_belong_to_their_org(db: Database) -> None:
    assert await claim(db, org_id="acme") is None
    assert await claim(db, org_id="other", fingerprint="f-2") is None
    assert await rows(db) == [("acme", "k-1", "f-1", None), ("other", "k-1", "f-2", None)]


async def test_keys_older_than_the_ttl_are_forgotten_when_the_org_claims_one(
    db: Database,
) -> None:
    long_ago = utcnow() - TTL - timedelta(minutes=1)
    recently = utcnow() - TTL + timedelta(minutes=10)
    assert await claim(db, key="old", now=long_ago) is None
    assert await answer(db, key="old")
    assert await claim(db, key="recent", now=recently) is None
    assert await answer(db, key="recent")
    assert await claim(db, key="old", org_id="other", now=long_ago) is None

    assert await claim(db, key="new") is None

    remaining = {(org, key) for org, key, _, _ in await rows(db)}
    # acme's old key is gone; its recent one stays, and so does another org's old key
    # (forgotten when that org claims a key).
    assert remaining == {("acme", "recent"), ("acme", "new"), ("other", "old")}
    assert await claim(db, key="old", fingerprint="f-new") is None  # usable again


async def test_a_claim_abandoned_in_progress_is_taken_over(db: Database) -> None:
    started = utcnow() - ABANDONED - timedelta(seconds=1)
    assert await claim(db, key="stuck", now=started) is None
    assert await claim(db, key="answered", now=started) is None
    assert await answer(db, key="answered")

    assert await claim(db, key="stuck", fingerprint="f-retry") is None
    held = await claim(db, key="answered", fingerprint="f-retry")

    assert held is not None and held.fingerprint == "f-1" and held.status_code == 200
    assert await rows(db) == [("acme", "answered", "f-1", 200), ("acme", "stuck", "f-retry", None)]


async def test_a_recent_claim_in_progress_is_not_taken_over(db: Database) -> None:
    assert await claim(db, now=utcnow() - ABANDONED + timedelta(seconds=10)) is None
    held = await claim(db, fingerprint="f-retry")
    assert held is not None and held.fingerprint == "f-1" and held.in_progress


async def test_an_old_claim_renewed_recently_is_not_taken_over(db: Database) -> None:
    started = utcnow() - ABANDONED * 10
    assert await claim(db, now=started) is None
    async with db.session() as session:
        renewed = await idempotency.renew_claim(
            session, org_id="acme", key="k-1", fingerprint="f-1", now=utcnow()
        )
    assert renewed

    held = await claim(db, fingerprint="f-retry")

    assert held is not None and held.fingerprint == "f-1" and held.in_progress
    assert held.created_at == started and held.renewed_at > started


async def test_only_a_claim_in_progress_is_renewed(db: Database) -> None:
    assert await claim(db, key="answered") is None
    assert await answer(db, key="answered")
    async with db.session() as session:
        answered = await idempotency.renew_claim(
            session, org_id="acme", key="answered", fingerprint="f-1", now=utcnow()
        )
        missing = await idempotency.renew_claim(
            session, org_id="acme", key="missing", fingerprint="f-1", now=utcnow()
        )
    assert (answered, missing) == (False, False)


async def test_racing_claims_of_one_key_have_exactly_one_winner(db: Database) -> None:
    results = await asyncio.gather(*(claim(db, fingerprint=f"f-{n}") for n in range(6)))
    winners = [n for n, held in enumerate(results) if held is None]
    assert len(winners) == 1
    winner = f"f-{winners[0]}"
    losers = [held for held in results if held is not None]
    assert all(held.fingerprint == winner and held.in_progress for held in losers)
    async with db.read_session() as session:
        assert await count_rows(session, IdempotencyKeyModel) == 1


async def test_a_claim_racing_an_open_transaction_waits_for_it_and_sees_its_row(
    db: Database,
) -> None:
    async with db.session() as first:
        now = utcnow()
        claimed = await idempotency.claim_key(
            first,
            org_id="acme",
            key="k-1",
            fingerprint="f-first",
            now=now,
            forget_before=now - TTL,
            abandoned_before=now - ABANDONED,
        )
        assert claimed is None
        second = asyncio.create_task(claim(db, fingerprint="f-second"))
        if not db.is_sqlite:  # (SQLite queues writers in-process: the second cannot start)
            await eventually(lambda: blocked_on_a_lock(db))
        assert not second.done()
    held = await second
    assert held is not None and held.fingerprint == "f-first" and held.in_progress
