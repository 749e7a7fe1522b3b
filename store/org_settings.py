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
    now = utcnow()
    statement = (
        upsert_insert(session, OrgSettingsModel)
        .values(org_id=org_id, **defaults, triage=triage, updated_at=now)
        .on_conflict_do_update(
            index_elements=[OrgSettingsModel.org_id], set_={"triage": triage, "updated_at": now}
        )
    )
    await session.execute(statement)
