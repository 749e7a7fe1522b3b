"""The org's notification feed: stored rows, followed live by polling the store.

Polling the database (rather than an in-process bus) is what lets the worker process
publish and the API process stream, and what makes `Last-Event-ID` resumption exact.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from notifications.models import Notification
from store.db import Database
from store.notifications import (
    latest_notification_id,
    notifications_since,
    recent_notifications,
)


class NotificationFeed:
    def __init__(self, db: Database, poll_seconds: float = 0.5) -> None:
        self._db = db
        self._poll_seconds = poll_seconds

    async def since(self, org: str, after_id: int, limit: int = 100) -> list[Notification]:
        async with self._db.session() as session:
            rows = await notifications_since(session, org, after_id, limit)
        return [Notification.model_validate(row, from_attributes=True) for row in rows]

    async def recent(self, org: str, limit: int = 30) -> list[Notification]:
        """The newest first, for a person catching up."""
        async with self._db.read_session() as session:
            rows = await recent_notifications(session, org, limit)
        return [Notification.model_validate(row, from_attributes=True) for row in rows]

    async def latest_id(self, org: str) -> int:
        """Where a new follower starts: after everything already there."""
        async with self._db.read_session() as session:
            return await latest_notification_id(session, org)

    async def follow(
        self, org: str, after_id: int, idle_seconds: float = 15.0
    ) -> AsyncIterator[Notification | None]:
        """Yield new notifications forever; None after `idle_seconds` without any."""
        idle = 0.0
        while True:
            batch = await self.since(org, after_id)
            for notification in batch:
                after_id = notification.id
                yield notification
            if batch:
                idle = 0.0
                continue
            await asyncio.sleep(self._poll_seconds)
            idle += self._poll_seconds
            if idle >= idle_seconds:
                idle = 0.0
                yield None
