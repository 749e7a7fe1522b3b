"""Each org's learned triage classifier, kept as JSON data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import utcnow
from store.models import TriageModelRow
from store.rows import to_record
from store.sql import upsert_insert


@dataclass(frozen=True)
class TriageModelRecord:
    org_id: str
    state: dict[str, Any] | None  # None: too few verdicts of some kind, it abstains
    verdicts: int
    trained_at: datetime


async def get_model(session: AsyncSession, org_id: str) -> TriageModelRecord | None:
    statement = (
        select(TriageModelRow)
        .where(TriageModelRow.org_id == org_id)
        .execution_options(populate_existing=True)
    )
    row = (await session.scalars(statement)).one_or_none()
    return None if row is None else to_record(TriageModelRecord, row)


async def put_model(
    session: AsyncSession, org_id: str, state: dict[str, Any] | None, verdicts: int
) -> None:
    values = {"state": state, "verdicts": verdicts, "trained_at": utcnow()}
    statement = (
        upsert_insert(session, TriageModelRow)
        .values(org_id=org_id, **values)
        .on_conflict_do_update(index_elements=[TriageModelRow.org_id], set_=values)
    )
    await session.execute(statement)
