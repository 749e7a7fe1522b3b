"""The console's live stream (server-sent events, the session cookie authenticates it):

- `incidents`: something changed in the org's incidents; the list fetches its rows again;
- `notification`: a toast with the notification's links, for every notification of the
  org after the one the browser saw last (EventSource's Last-Event-ID resumes there).

The notifications drawer lists the latest ones again, for whoever dismissed or missed them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from api.auth import Principal
from console.pages import TEMPLATES, Person, render
from console.session import state_of
from services.incidents import IncidentService
from services.notifications import NotificationFeed

POLL_SECONDS = 1.0
router = APIRouter(include_in_schema=False)


@router.get("/fragments/notifications", response_class=HTMLResponse)
async def notifications_drawer(request: Request, me: Person) -> Response:
    """The drawer: the org's latest notifications, newest first, with their links."""
    notes = await NotificationFeed(state_of(request).db).recent(me.org)
    return render(request, "_notifications.html", notes=notes)


@router.get("/events")
async def events(request: Request, me: Person) -> StreamingResponse:
    after = int(request.headers.get("last-event-id") or 0)
    stream = _frames(request, me, after)
    return StreamingResponse(
        stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


async def _frames(request: Request, me: Principal, after: int) -> AsyncIterator[str]:
    db = state_of(request).db
    feed, incidents = NotificationFeed(db), IncidentService(db)
    seen = await _latest_change(incidents, me.org)
    if after == 0:
        after = await feed.latest_id(me.org)
    while not await request.is_disconnected():
        for note in await feed.since(me.org, after):
            after = note.id
            yield _frame("notification", _toast(note), note.id)
        latest = await _latest_change(incidents, me.org)
        if latest != seen:
            seen = latest
            yield _frame("incidents", "changed")
        await asyncio.sleep(POLL_SECONDS)


async def _latest_change(incidents: IncidentService, org: str) -> Any:
    page = await incidents.list(org_id=org, limit=1, sort="-updated_at")
    return (page.items[0].id, page.items[0].updated_at) if page.items else None


def _toast(note: Any) -> str:
    html: str = TEMPLATES.get_template("_toast.html").render(note=note)
    return " ".join(html.split())


def _frame(event: str, data: str, event_id: int | None = None) -> str:
    lines = [f"event: {event}", f"data: {data}"]
    if event_id is not None:
        lines.insert(0, f"id: {event_id}")
    return "\n".join(lines) + "\n\n"
