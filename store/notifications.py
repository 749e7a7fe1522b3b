"""Stored notifications: what the per-org live stream replays from an id onwards."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import utcnow
from store.models import NotificationModel
from store.records import Notification
from store.rows import to_record
from store.sql import upsert_insert


async def add_notification(
    session: AsyncSession,
    *,
    org_id: str,
    message: str,
    title: str | None = None,
    severity: str | None = None,
    links: list[dict[str, Any]] | None = None,
    incident_id: str | None = None,
    source: str | None = None,
    dedup_key: str | None = None,
) -> int:
    """Store a notification; with a `dedup_key` already stored, return the existing id."""
    statement = (
        upsert_insert(session, NotificationModel)
        .values(
            org_id=org_id,
            created_at=utcnow(),
            message=message,
            title=title,
            severity=severity,
            links=links or [],
            incident_id=incident_id,
            source=source,
            dedup_key=dedup_key,
        )
        .on_conflict_do_nothing(
            index_elements=[NotificationModel.org_id, NotificationModel.dedup_key]
        )
        .returning(NotificationModel.id)
    )
    new_id = (await session.execute(statement)).scalar_one_or_none()
    if new_id is not None:
        return int(new_id)
    existing = select(NotificationModel.id).where(
        NotificationModel.org_id == org_id, NotificationModel.dedup_key == dedup_key
    )
    return int((await session.execute(existing)).scalar_one())


async def notifications_since(
    session: AsyncSession, org_id: str, after_id: int = 0, limit: int = 100
) -> list[Notification]:
    """The org's notifications with id > `after_id`, oldest first."""
    statement = (
        select(NotificationModel)
        .where(NotificationModel.org_id == org_id, NotificationModel.id > after_id)
        .order_by(NotificationModel.id)
        .limit(limit)
    )
    return [to_record(Notification, row) for row in (await session.scalars(statement)).all()]


async def latest_notification_id(session: AsyncSession, org_id: str) -> int:
    """The id of the org's newest notification; 0 when it has none."""
    statement = select(func.max(NotificationModel.id)).where(NotificationModel.org_id == org_id)
    return int(await session.scalar(statement) or 0)


async def recent_notifications(
    session: AsyncSession, org_id: str, limit: int
) -> list[Notification]:
    """The org's newest `limit` notifications, newest first."""
    statement = (
        select(NotificationModel)
        .where(NotificationModel.org_id == org_id)
        .order_by(NotificationModel.id.desc())
        .limit(limit)
    )
    return [to_record(Notification, row) for row in (await session.scalars(statement)).all()]
