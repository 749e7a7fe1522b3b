"""A notification as the live stream delivers it, and its Server-Sent Events frame."""

from __future__ import annotations

import json
from datetime import datetime

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
    return f"id: {notification.id}\nevent: notification\ndata: {json.dumps(body)}\n\n"


SSE_KEEPALIVE = ": keepalive\n\n"
