"""FakeSlack: a Slack incoming webhook. Records accepted messages and answers "ok".

Errors use Slack's own answers: 400 `invalid_payload` / `no_text`, 404 `no_service`
for an unknown (revoked) webhook, and whatever `fail_next` injects.
"""

from __future__ import annotations

import threading
from typing import Any

from tests.fakes.http_target import FakeHTTPServer, RecordedRequest, Reply

WEBHOOK_PATH = "/services/T0FAKE000/B0FAKE000/fakeWebhookSecret42"
# Slack's answer for each status a test may inject.
DEFAULT_ERRORS = {
    400: "invalid_payload",
    403: "action_prohibited",
    404: "no_service",
    410: "channel_is_archived",
    429: "rate_limited",
    500: "rollup_error",
}


class FakeSlack(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self._messages: list[dict[str, Any]] = []
        self._failures: list[Reply] = []
        self._lock = threading.Lock()

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The JSON bodies Slack accepted, in order."""
        with self._lock:
            return list(self._messages)

    def fail_next(self, status: int, times: int = 1, *, body: str | None = None) -> None:
        """Answer the next `times` posts with `status` and Slack's text for it."""
        text = body if body is not None else DEFAULT_ERRORS.get(status, "error")
        headers = {"Retry-After": "1"} if status == 429 else {}
        reply = Reply.of_text(status, text)
        with self._lock:
            self._failures += [Reply(status, reply.body, {**reply.headers, **headers})] * times

    def handle(self, request: RecordedRequest) -> Reply:
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
            if request.method != "POST" or request.path != WEBHOOK_PATH:
                return Reply.of_text(404, "no_service")
            return self._accept(request)

    def _accept(self, request: RecordedRequest) -> Reply:
        try:
            message = request.json()
        except (ValueError, UnicodeDecodeError):
            return Reply.of_text(400, "invalid_payload")
        if not isinstance(message, dict):
            return Reply.of_text(400, "invalid_payload")
        if not message.get("text") and not message.get("blocks"):
            return Reply.of_text(400, "no_text")
        self._messages.append(message)
        return Reply.of_text(200, "ok")
