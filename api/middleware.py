"""Refuse request bodies over the size limit before a handler can act on them (413)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_SETTING = "FIRELINE_MAX_BODY_BYTES"


class _BodyTooLarge(Exception):
    """Raised into the app from `receive` when the streamed body passes the limit."""


@dataclass
class _Counter:
    limit: int
    received: int = 0
    exceeded: bool = False
    response_started: bool = False


class BodySizeLimit:
    """A pure ASGI middleware: `max_bytes` for every path, `overrides` for some (path -> bytes).

    A declared Content-Length over the limit is answered at once, unread. A body without
    one (chunked) is counted as it arrives; once over, the app's `receive` raises, whatever
    the app answers is dropped and the client gets the 413 instead. That 413 keeps the
    connection open: the server drops the rest of the body unread and unkept, so a client
    still sending gets the answer rather than a reset (uvicorn closes an idle connection
    after its keep-alive timeout).
    `setting_names` (path -> environment variable) names the setting in the message.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        overrides: Mapping[str, int] | None = None,
        *,
        setting_names: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = dict(overrides or {})
        self.setting_names = dict(setting_names or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.overrides.get(path, self.max_bytes)
        setting = self.setting_names.get(path, DEFAULT_SETTING)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            message = f"request body is {declared} bytes; {_limit(limit, setting)}"
            await _send_413(send, message, close=True)
            return
        counter = _Counter(limit)
        try:
            await self.app(scope, _counting(receive, counter), _unless_exceeded(send, counter))
        except _BodyTooLarge:
            pass
        except Exception:
            if not counter.exceeded or counter.response_started:
                raise
        if counter.exceeded and not counter.response_started:
            received = f"request body is over the limit ({counter.received} bytes received)"
            await _send_413(send, f"{received}; {_limit(limit, setting)}", close=False)


def _counting(receive: Receive, counter: _Counter) -> Receive:
    async def receive_counted() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            counter.received += len(message.get("body", b""))
            if counter.received > counter.limit:
                counter.exceeded = True
                raise _BodyTooLarge
        return message

    return receive_counted


def _unless_exceeded(send: Send, counter: _Counter) -> Send:
    """Pass the app's messages on, unless the body went over: the 413 replaces them."""

    async def send_checked(message: Message) -> None:
        if counter.exceeded and not counter.response_started:
            return
        if message["type"] == "http.response.start":
            counter.response_started = True
        await send(message)

    return send_checked


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _limit(limit: int, setting: str) -> str:
    return f"the limit is {limit} bytes ({setting})"


async def _send_413(send: Send, detail: str, *, close: bool) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
