"""IdempotencyService: the first final answer is replayed; anything else runs again."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from core.errors import BadRequestError, ConflictError, InvalidInputError
from core.ids import utcnow
from services.idempotency import (
    ABANDONED_AFTER,
    KEY_TTL,
    Answer,
    IdempotencyService,
    checked_key,
    fingerprint,
)
from store import idempotency
from store.db import Database
from store.models import IdempotencyKeyModel
from tests.platform.harness import eventually
from tests.store.helpers import count_rows

FP = fingerprint("POST", "/v1/things", "alice", {"note": "x"})


class Counter:
    """An action that answers `answer` and counts its runs."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.runs = 0
        self.answer = answer or Answer(200, {"n": 1})

    async def __call__(self) -> Answer:
        self.runs += 1
        return self.answer


async def key_rows(db: Database) -> int:
    async with db.read_session() as session:
        return await count_rows(session, IdempotencyKeyModel)


async def stored_claim(db: Database, at: datetime, status_code: int | None) -> None:
    async with db.session() as session:
        claimed = await idempotency.claim_key(
            session,
            org_id="acme",
            key="k",
            fingerprint=FP,
            now=at,
            forget_before=at - KEY_TTL,
            abandoned_before=at - ABANDONED_AFTER,
        )
        assert claimed is None
        if status_code is not None:
            await idempotency.store_answer(
                session,
                org_id="acme",
                key="k",
                fingerprint=FP,
                status_code=status_code,
                response={"old": True},
            )


@pytest.mark.parametrize(
    "key", ["a", "k" * 255, "a key with spaces", "~!#$%&'()*+,-./:;<=>?@[]^_`{|}"]
)
def test_printable_ascii_keys_of_1_to_255_characters_are_accepted(key: str) -> None:
    assert checked_key(key) == key


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there", "new\nline", "clé", "del\x7f"])
def test_other_keys_are_a_bad_request_that_says_what_a_key_must_be(key: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        checked_key(key)
    assert str(caught.value).startswith(
        "Idempotency-Key must be 1 to 255 printable ASCII characters"
    )


def test_the_fingerprint_tells_method_path_caller_and_body_apart() -> None:
    same = fingerprint("post", "/v1/things", "alice", {"note": "x"})
    assert same == FP
    assert fingerprint("POST", "/v1/t", "a", {"a": 1, "b": [1, 2]}) == fingerprint(
        "POST", "/v1/t", "a", {"b": [1, 2], "a": 1}
    )
    others = {
        fingerprint("PUT", "/v1/things", "alice", {"note": "x"}),
        fingerprint("POST", "/v1/other", "alice", {"note": "x"}),
        fingerprint("POST", "/v1/things", "bob", {"note": "x"}),
        fingerprint("POST", "/v1/things", "alice", {"note": "y"}),
        fingerprint("POST", "/v1/things", "alice", None),
    }
    assert FP not in others and len(others) == 5


async def test_a_repeat_gets_the_first_answer_replayed_without_running_again(
    db: Database,
) -> None:
    service = IdempotencyService(db)
    action = Counter(Answer(201, {"id": "s-1"}))
    first = await service.run("acme", "k", FP, action)
    again = await service.run("acme", "k", FP, Counter(Answer(200, {"id": "s-2"})))
    assert first == Answer(201, {"id": "s-1"}, replayed=False)
    assert again == Answer(201, {"id": "s-1"}, replayed=True)
    assert action.runs == 1


@pytest.mark.parametrize("status_code", [403, 404, 409, 422])
async def test_a_final_refusal_is_kept_and_replayed(db: Database, status_code: int) -> None:
    service = IdempotencyService(db)
    await service.run("acme", "k", FP, Counter(Answer(status_code, {"detail": "no"})))
    retry = Counter()
    again = await service.run("acme", "k", FP, retry)
    assert again == Answer(status_code, {"detail": "no"}, replayed=True)
    assert retry.runs == 0


@pytest.mark.parametrize("status_code", [400, 429, 500, 503])
async def test_an_answer_that_is_not_final_releases_the_key(db: Database, status_code: int) -> None:
    service = IdempotencyService(db)
    first = await service.run("acme", "k", FP, Counter(Answer(status_code, {"detail": "x"})))
    assert first.status_code == status_code and not first.replayed
    assert await key_rows(db) == 0
    retry = Counter()
    assert await service.run("acme", "k", FP, retry) == Answer(200, {"n": 1})
    assert retry.runs == 1


async def test_an_exception_releases_the_key_and_propagates(db: Database) -> None:
    service = IdempotencyService(db)

    async def broken() -> Answer:
        raise RuntimeError("temporal went away")

    with pytest.raises(RuntimeError, match="temporal went away"):
        await service.run("acme", "k", FP, broken)
    assert await key_rows(db) == 0
    retry = Counter()
    await service.run("acme", "k", FP, retry)
    assert retry.runs == 1


async def test_a_cancelled_request_releases_the_key(db: Database) -> None:
    service = IdempotencyService(db)
    started = asyncio.Event()

    async def forever() -> Answer:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    task = asyncio.create_task(service.run("acme", "k", FP, forever))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await key_rows(db) == 0


async def test_a_repeat_while_the_first_runs_is_told_to_retry_and_changes_nothing(
    db: Database,
) -> None:
    service = IdempotencyService(db)
    started, finish = asyncio.Event(), asyncio.Event()

    async def slow() -> Answer:
        started.set()
        await finish.wait()
        return Answer(200, {"first": True})

    first = asyncio.create_task(service.run("acme", "k", FP, slow))
    await started.wait()
    meanwhile = Counter()
    with pytest.raises(ConflictError) as caught:
        await service.run("acme", "k", FP, meanwhile)
    assert str(caught.value) == (
        "a request with this Idempotency-Key is still being handled; retry in a moment"
    )
    assert meanwhile.runs == 0
    finish.set()
    assert await first == Answer(200, {"first": True})
    assert await service.run("acme", "k", FP, meanwhile) == Answer(
        200, {"first": True}, replayed=True
    )
    assert meanwhile.runs == 0


async def test_the_same_key_for_a_different_request_is_refused(db: Database) -> None:
    service = IdempotencyService(db)
    await service.run("acme", "k", FP, Counter(Answer(200, {"first": True})))
    other = Counter()
    different = fingerprint("POST", "/v1/things", "alice", {"note": "changed"})
    with pytest.raises(InvalidInputError) as caught:
        await service.run("acme", "k", different, other)
    assert str(caught.value).startswith(
        "Idempotency-Key 'k' was already used for a different request"
    )
    assert other.runs == 0
    assert await service.run("acme", "k", FP, other) == Answer(200, {"first": True}, True)


async def test_the_same_key_in_another_org_is_another_key(db: Database) -> None:
    service = IdempotencyService(db)
    await service.run("acme", "k", FP, Counter(Answer(200, {"org": "acme"})))
    other_org = Counter(Answer(200, {"org": "other"}))
    assert await service.run("other", "k", FP, other_org) == Answer(200, {"org": "other"})
    assert other_org.runs == 1


async def test_a_key_older_than_24_hours_is_forgotten(db: Database) -> None:
    await stored_claim(db, utcnow() - KEY_TTL - timedelta(seconds=1), status_code=200)
    action = Counter()
    assert await IdempotencyService(db).run("acme", "k", FP, action) == Answer(200, {"n": 1})
    assert action.runs == 1


async def test_a_key_younger_than_24_hours_is_kept(db: Database) -> None:
    await stored_claim(db, utcnow() - KEY_TTL + timedelta(minutes=1), status_code=200)
    action = Counter()
    answer = await IdempotencyService(db).run("acme", "k", FP, action)
    assert answer == Answer(200, {"old": True}, replayed=True)
    assert action.runs == 0


async def test_a_running_request_keeps_its_claim_alive_past_the_abandon_period(
    db: Database,
) -> None:
    period = timedelta(seconds=2)
    service = IdempotencyService(db, abandoned_after=period)
    release = asyncio.Event()
    first = Counter()

    async def slow_action() -> Answer:
        await release.wait()
        return await first()

    running = asyncio.create_task(service.run("acme", "k", FP, slow_action))

    async def renewed_past_the_period() -> bool:
        async with db.read_session() as session:
            held = await idempotency.get_key(session, "acme", "k")
        return held is not None and held.renewed_at >= held.created_at + period

    await eventually(renewed_past_the_period)
    retry = Counter()
    with pytest.raises(ConflictError, match="still being handled"):
        await service.run("acme", "k", FP, retry)
    release.set()
    assert await running == Answer(200, {"n": 1})
    assert (first.runs, retry.runs) == (1, 0)
    assert await service.run("acme", "k", FP, retry) == Answer(200, {"n": 1}, replayed=True)


async def test_a_claim_left_in_progress_by_a_dead_process_is_taken_over(db: Database) -> None:
    await stored_claim(db, utcnow() - ABANDONED_AFTER - timedelta(seconds=1), None)
    action = Counter()
    assert await IdempotencyService(db).run("acme", "k", FP, action) == Answer(200, {"n": 1})
    assert action.runs == 1
