"""Live notifications: `GET /v1/notifications/stream` (SSE) and a plain list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from api.dependencies import CurrentPrincipal, NotificationFeedDep
from notifications.models import SSE_KEEPALIVE, Notification, sse_frame
from services.notifications import NotificationFeed

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


@router.get("", response_model=list[Notification])
async def list_notifications(
    principal: CurrentPrincipal,
    feed: NotificationFeedDep,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Notification]:
    return await feed.since(principal.org, after_id, limit)


@router.get("/stream", response_class=StreamingResponse)
async def stream_notifications(
    principal: CurrentPrincipal,
    feed: NotificationFeedDep,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
    after_id: Annotated[int, Query(ge=0, description="Resume after this id")] = 0,
) -> StreamingResponse:
    start = last_event_id if last_event_id is not None else after_id
    return StreamingResponse(
        _frames(feed, principal.org, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _frames(feed: NotificationFeed, org: str, after_id: int) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    async for notification in feed.follow(org, after_id):
        yield SSE_KEEPALIVE if notification is None else sse_frame(notification)
