"""Small builders shared by the store tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import new_id
from store.db import Database
from store.enums import EventType
from store.incidents import append_event
from store.models import Base
from store.records import StoredEvent


async def create_incident(
    db: Database,
    org_id: str = "acme",
    *,
    title: str = "Checkout 5xx",
    severity: str = "SEV2",
    ts: datetime | None = None,
    **fields: Any,
) -> str:
    incident_id = new_id("inc")
    async with db.session() as session:
        await append_event(
            session,
            org_id=org_id,
            incident_id=incident_id,
            type=EventType.CREATED,
            payload={"title": title, "severity": severity, **fields},
            actor="tester",
            ts=ts,
        )
    return incident_id


async def append(
    db: Database, org_id: str, incident_id: str, type: EventType, payload: dict[str, Any]
) -> StoredEvent:
    async with db.session() as session:
        return await append_event(
            session,
            org_id=org_id,
            incident_id=incident_id,
            type=type,
            payload=payload,
            actor="tester",
        )


async def count_rows(session: AsyncSession, model: type[Base]) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())
