"""FakeLlm: an OpenAI-compatible chat-completions endpoint. Answers from a script of
votes, raw contents, statuses and delays, and records every request it got."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.http_target import FakeHTTPServer, RecordedRequest, Reply

PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Scripted:
    content: str | None = None  # the message content to answer with
    status: int = 200
    delay: float = 0.0


class FakeLlm(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self._script: list[Scripted] = []
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def answer_vote(self, verdict: str, confidence: float, reason: str = "because") -> None:
        import json

        vote = {"verdict": verdict, "confidence": confidence, "reason": reason}
        self.answer_content(json.dumps(vote))

    def answer_content(self, content: str, *, delay: float = 0.0) -> None:
        with self._lock:
            self._script.append(Scripted(content=content, delay=delay))

    def answer_status(self, status: int) -> None:
        with self._lock:
            self._script.append(Scripted(status=status))

    def handle(self, request: RecordedRequest) -> Reply:
        if request.method != "POST" or request.path != PATH:
            return Reply.of_json(404, {"error": {"message": "unknown path"}})
        with self._lock:
            scripted = self._script.pop(0) if self._script else Scripted(status=503)
        if scripted.delay:
            time.sleep(scripted.delay)
        if scripted.status != 200:
            return Reply.of_json(scripted.status, {"error": {"message": "scripted"}})
        return Reply.of_json(200, _completion(scripted.content or ""))


def _completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
    }
