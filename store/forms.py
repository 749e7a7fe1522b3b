"""Versions of each org's incident form: the newest is current, `fields` NULL = deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import FormSchemaVersionModel
from store.rows import to_record


@dataclass(frozen=True)
class FormSchemaVersion:
    org_id: str
    version: int
    name: str | None
    description: str | None
    fields: list[Any] | None  # None: this version deleted the form
    changed_by: str
    changed_at: datetime


async def latest(session: AsyncSession, org_id: str) -> FormSchemaVersion | None:
    statement = (
        select(FormSchemaVersionModel)
        .where(FormSchemaVersionModel.org_id == org_id)
        .order_by(FormSchemaVersionModel.version.desc())
        .limit(1)
    )
    row = (await session.scalars(statement)).one_or_none()
    return to_record(FormSchemaVersion, row) if row is not None else None


async def add_version(
    session: AsyncSession,
    *,
    org_id: str,
    name: str | None,
    description: str | None,
    fields: list[Any] | None,
    changed_by: str,
    changed_at: datetime,
) -> FormSchemaVersion:
    """The next version number; two writers racing for it collide on the primary key
    (IntegrityError at flush), never share a number."""
    newest = select(func.max(FormSchemaVersionModel.version)).where(
        FormSchemaVersionModel.org_id == org_id
    )
    version = ((await session.execute(newest)).scalar_one_or_none() or 0) + 1
    row = FormSchemaVersionModel(
        org_id=org_id,
        version=version,
        name=name,
        description=description,
        fields=fields,
        changed_by=changed_by,
        changed_at=changed_at,
    )
    session.add(row)
    await session.flush()
    return to_record(FormSchemaVersion, row)


async def get_version(session: AsyncSession, org_id: str, version: int) -> FormSchemaVersion | None:
    row = await session.get(FormSchemaVersionModel, (org_id, version))
    return to_record(FormSchemaVersion, row) if row is not None else None


async def history(session: AsyncSession, org_id: str) -> list[FormSchemaVersion]:
    statement = (
        select(FormSchemaVersionModel)
        .where(FormSchemaVersionModel.org_id == org_id)
        .order_by(FormSchemaVersionModel.version.desc())
    )
    return [to_record(FormSchemaVersion, row) for row in (await session.scalars(statement)).all()]
