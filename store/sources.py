"""Ingestion keys: (org, source type, source ref) → the incident they opened.

A key is claimed once, by the first delivery that commits; later deliveries lock the
row to compare what the source says now with what it said last.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import IncidentSourceModel
from store.records import IncidentSource
from store.rows import to_record
from store.sql import insert_if_absent

__all__ = ["IncidentSource", "claim", "get", "list_for_incident", "save_state"]

_KEY = ("org_id", "source_type", "source_ref")


async def get(
    session: AsyncSession,
    org_id: str,
    source_type: str,
    source_ref: str,
    *,
    for_update: bool = False,
) -> IncidentSource | None:
    """`for_update` locks the row until the transaction ends (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers)."""
    statement = select(IncidentSourceModel).where(
        IncidentSourceModel.org_id == org_id,
        IncidentSourceModel.source_type == source_type,
        IncidentSourceModel.source_ref == source_ref,
    )
    if for_update:
        statement = statement.with_for_update()
    row = (await session.scalars(statement)).one_or_none()
    return to_record(IncidentSource, row) if row is not None else None


async def claim(
    session: AsyncSession,
    *,
    org_id: str,
    source_type: str,
    source_ref: str,
    incident_id: str,
    last_state: dict[str, Any],
    signal_keys: list[str],
    now: datetime,
) -> bool:
    """Insert the key for `incident_id` with what its source says; False when it exists.

    On PostgreSQL an INSERT racing another transaction's uncommitted insert of the same
    key waits for it: once that one commits this returns False, and `get` then sees its
    row, so two first deliveries never open two incidents.
    """
    values = {
        "org_id": org_id,
        "source_type": source_type,
        "source_ref": source_ref,
        "incident_id": incident_id,
        "last_state": last_state,
        "signal_keys": signal_keys,
        "created_at": now,
        "updated_at": now,
    }
    return await insert_if_absent(session, IncidentSourceModel, _KEY, values)


async def save_state(
    session: AsyncSession,
    *,
    org_id: str,
    source_type: str,
    source_ref: str,
    last_state: dict[str, Any],
    signal_keys: list[str],
    now: datetime,
) -> None:
    await session.execute(
        update(IncidentSourceModel)
        .where(
            IncidentSourceModel.org_id == org_id,
            IncidentSourceModel.source_type == source_type,
            IncidentSourceModel.source_ref == source_ref,
        )
        .values(last_state=last_state, signal_keys=signal_keys, updated_at=now)
    )


async def list_for_incident(
    session: AsyncSession, org_id: str, incident_id: str
) -> list[IncidentSource]:
    statement = (
        select(IncidentSourceModel)
        .where(IncidentSourceModel.org_id == org_id, IncidentSourceModel.incident_id == incident_id)
        .order_by(IncidentSourceModel.created_at, IncidentSourceModel.source_type)
    )
    return [to_record(IncidentSource, row) for row in (await session.scalars(statement)).all()]
