"""Console users (email, org, role, password hash)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import utcnow
from store.models import UserModel
from store.rows import to_record
from store.sql import affected_rows


@dataclass(frozen=True)
class UserRecord:
    email: str
    org_id: str
    role: str
    password_hash: str
    created_at: datetime


async def get_user(session: AsyncSession, email: str) -> UserRecord | None:
    row = await session.get(UserModel, email)
    return None if row is None else to_record(UserRecord, row)


async def add_user(
    session: AsyncSession, *, email: str, org_id: str, role: str, password_hash: str
) -> UserRecord:
    row = UserModel(
        email=email, org_id=org_id, role=role, password_hash=password_hash, created_at=utcnow()
    )
    session.add(row)
    await session.flush()
    return to_record(UserRecord, row)


async def list_users(session: AsyncSession, org_id: str) -> list[UserRecord]:
    rows = await session.scalars(
        select(UserModel).where(UserModel.org_id == org_id).order_by(UserModel.email)
    )
    return [to_record(UserRecord, row) for row in rows]


async def remove_user(session: AsyncSession, org_id: str, email: str) -> bool:
    """Whether a user of that email was in the org (and is gone now)."""
    statement = delete(UserModel).where(UserModel.org_id == org_id, UserModel.email == email)
    return affected_rows(await session.execute(statement)) > 0
