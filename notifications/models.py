"""A notification as the live stream delivers it, and its Server-Sent Events frame."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Link(BaseModel):
    text: str
    url: str
    external: bool = True


class Notification(BaseModel):
    id: int
    org_id: str
    created_at: datetime
    message: str
    title: str | None = None
    severity: str | None = None
    links: list[Link] = Field(default_factory=list)
    incident_id: str | None = None
    source: str | None = None


def sse_frame(notification: Notification) -> str:
    body = notification.model_dump(mode="json", exclude={"org_id"})
    return sse_event(notification.id, "notification", body)


def sse_event(event_id: int, event: str, data: Any) -> str:
    """One Server-Sent Events frame; `data` as one line of JSON."""
    return f"id: {event_id}\nevent: {event}\ndata: {json.dumps(data)}\n\n"


SSE_KEEPALIVE = ": keepalive\n\n"
