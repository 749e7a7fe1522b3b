"""Per-org settings: one row per org that changed a default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import utcnow
from store.models import OrgSettingsModel
from store.rows import to_record
from store.sql import upsert_insert


@dataclass(frozen=True)
class OrgSettingsRecord:
    org_id: str
    execution_mode: str
    auto_threshold: float
    updated_at: datetime
    triage: dict[str, Any] | None = None  # the org's triage guardrails, as saved
    list_columns: list[str] | None = None  # enrichments the console's incident list shows


async def get_org_settings(session: AsyncSession, org_id: str) -> OrgSettingsRecord | None:
    """None when the org never changed its settings (the defaults apply)."""
    statement = (
        select(OrgSettingsModel)
        .where(OrgSettingsModel.org_id == org_id)
        .execution_options(populate_existing=True)
    )
    row = (await session.scalars(statement)).one_or_none()
    return None if row is None else to_record(OrgSettingsRecord, row)


async def put_execution_mode(
    session: AsyncSession, org_id: str, *, execution_mode: str, auto_threshold: float
) -> OrgSettingsRecord:
    """Create or replace the org's execution mode and auto threshold."""
    values = {
        "execution_mode": execution_mode,
        "auto_threshold": auto_threshold,
        "updated_at": utcnow(),
    }
    statement = (
        upsert_insert(session, OrgSettingsModel)
        .values(org_id=org_id, **values)
        .on_conflict_do_update(index_elements=[OrgSettingsModel.org_id], set_=values)
    )
    await session.execute(statement)
    stored = await get_org_settings(session, org_id)
    assert stored is not None
    return stored


async def put_triage(
    session: AsyncSession, org_id: str, triage: dict[str, Any], *, defaults: dict[str, Any]
) -> None:
    """Create or replace the org's triage settings; an org without a row gets `defaults`
    (execution_mode, auto_threshold) with them."""
    await _put_one(session, org_id, {"triage": triage}, defaults)


async def put_list_columns(
    session: AsyncSession, org_id: str, columns: list[str], *, defaults: dict[str, Any]
) -> None:
    """Create or replace the enrichments the org's incident list shows, as put_triage."""
    await _put_one(session, org_id, {"list_columns": columns}, defaults)


async def _put_one(
    session: AsyncSession, org_id: str, values: dict[str, Any], defaults: dict[str, Any]
) -> None:
    values = values | {"updated_at": utcnow()}
    statement = (
        upsert_insert(session, OrgSettingsModel)
        .values(org_id=org_id, **defaults, **values)
        .on_conflict_do_update(index_elements=[OrgSettingsModel.org_id], set_=values)
    )
    await session.execute(statement)
