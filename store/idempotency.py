"""Idempotency keys: the first answer to a request sent with an `Idempotency-Key` header.

A key is claimed by inserting its row with `status_code` NULL; the answer is written on
the row afterwards, or the row is deleted again (released) so that a retry runs anew.
The primary key (org_id, key) decides between two requests that claim one key at once.
While its request runs, the claiming process renews the claim (`renewed_at`); a claim
left unrenewed belongs to a process that died, and the next request takes it over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import IdempotencyKeyModel
from store.rows import to_record
from store.sql import affected_rows, upsert_insert

# A claim is tried again when the row it conflicted with was released in between.
_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class IdempotencyRecord:
    org_id: str
    key: str
    fingerprint: str
    status_code: int | None  # None: the first request is still being handled
    response: Any
    created_at: datetime
    renewed_at: datetime

    @property
    def in_progress(self) -> bool:
        return self.status_code is None


async def claim_key(
    session: AsyncSession,
    *,
    org_id: str,
    key: str,
    fingerprint: str,
    now: datetime,
    forget_before: datetime,
    abandoned_before: datetime,
) -> IdempotencyRecord | None:
    """Claim `key` for a request; None when this call claimed it.

    Otherwise the row that holds the key (answered, or still in progress). First the
    org's keys created before `forget_before` are forgotten, and so is this key when it
    is in progress but was last renewed before `abandoned_before` (its process died).
    """
    await _forget(session, org_id, key, forget_before, abandoned_before)
    for _ in range(_CLAIM_ATTEMPTS):
        if await _insert(session, org_id, key, fingerprint, now):
            return None
        held = await get_key(session, org_id, key)
        if held is not None:
            return held
    raise RuntimeError(f"idempotency key {key!r} kept changing hands while being claimed")


async def get_key(session: AsyncSession, org_id: str, key: str) -> IdempotencyRecord | None:
    statement = (
        select(IdempotencyKeyModel)
        .where(IdempotencyKeyModel.org_id == org_id, IdempotencyKeyModel.key == key)
        .execution_options(populate_existing=True)
    )
    row = (await session.scalars(statement)).one_or_none()
    return None if row is None else to_record(IdempotencyRecord, row)


async def store_answer(
    session: AsyncSession,
    *,
    org_id: str,
    key: str,
    fingerprint: str,
    status_code: int,
    response: Any,
) -> bool:
    """Write the answer on a claim in progress; False when there is no such claim."""
    statement = (
        update(IdempotencyKeyModel)
        .where(*_claim_of(org_id, key, fingerprint))
        .values(status_code=status_code, response=response)
    )
    return affected_rows(await session.execute(statement)) == 1


async def renew_claim(
    session: AsyncSession, *, org_id: str, key: str, fingerprint: str, now: datetime
) -> bool:
    """Mark a claim in progress as still alive; False when there is no such claim."""
    statement = (
        update(IdempotencyKeyModel)
        .where(*_claim_of(org_id, key, fingerprint))
        .values(renewed_at=now)
    )
    return affected_rows(await session.execute(statement)) == 1


async def release_key(session: AsyncSession, *, org_id: str, key: str, fingerprint: str) -> bool:
    """Delete a claim in progress (no answer kept); False when there is no such claim."""
    statement = delete(IdempotencyKeyModel).where(*_claim_of(org_id, key, fingerprint))
    return affected_rows(await session.execute(statement)) == 1


def _claim_of(org_id: str, key: str, fingerprint: str) -> tuple[Any, ...]:
    return (
        IdempotencyKeyModel.org_id == org_id,
        IdempotencyKeyModel.key == key,
        IdempotencyKeyModel.fingerprint == fingerprint,
        IdempotencyKeyModel.status_code.is_(None),
    )


async def _forget(
    session: AsyncSession,
    org_id: str,
    key: str,
    forget_before: datetime,
    abandoned_before: datetime,
) -> None:
    abandoned = and_(
        IdempotencyKeyModel.key == key,
        IdempotencyKeyModel.status_code.is_(None),
        IdempotencyKeyModel.renewed_at < abandoned_before,
    )
    statement = delete(IdempotencyKeyModel).where(
        IdempotencyKeyModel.org_id == org_id,
        or_(IdempotencyKeyModel.created_at < forget_before, abandoned),
    )
    await session.execute(statement)


async def _insert(
    session: AsyncSession, org_id: str, key: str, fingerprint: str, now: datetime
) -> bool:
    statement = (
        upsert_insert(session, IdempotencyKeyModel)
        .values(
            org_id=org_id,
            key=key,
            fingerprint=fingerprint,
            status_code=None,
            response=None,
            created_at=now,
            renewed_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=[IdempotencyKeyModel.org_id, IdempotencyKeyModel.key]
        )
    )
    return affected_rows(await session.execute(statement)) == 1
