"""Read Server-Sent Events frames from a streaming httpx response."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx


async def sse_events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    frame: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "data" in frame:
                yield {
                    "id": frame.get("id"),
                    "event": frame.get("event"),
                    "data": json.loads(frame["data"]),
                }
            frame = {}
        elif not line.startswith(":") and ":" in line:
            key, _, value = line.partition(":")
            frame[key] = value.strip()
