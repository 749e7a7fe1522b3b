"""A generic HTTP server for tests (`HttpTarget`), and the base the other fakes build on.

`FakeHTTPServer` runs a `ThreadingHTTPServer` on 127.0.0.1 (ephemeral port) in a
background thread, records every request and answers with `handle(request) -> Reply`.

`HttpTarget` answers configured replies per path (default: 200 `{"ok": true}`) and has
gates: `GET /gate/<name>` blocks until the test calls `release(name)`, which keeps a
workflow step in flight for as long as a test needs. A released gate stays open.
"""

from __future__ import annotations

import json
import ssl
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

GATE_PREFIX = "/gate/"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON, or None when there is no body."""
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering

    @classmethod
    def of_json(cls, status: int, data: Any, headers: Mapping[str, str] | None = None) -> Reply:
        extra = dict(headers or {})
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json", **extra})

    @classmethod
    def of_text(cls, status: int, text: str, content_type: str = "text/plain") -> Reply:
        return cls(status, text.encode(), {"Content-Type": f"{content_type}; charset=utf-8"})

    @classmethod
    def dropped(cls) -> Reply:
        return cls(drop=True)


class FakeHTTPServer:
    """Subclasses implement `handle`; it runs on the server's threads.

    With an `ssl_context` (server side, holding a certificate) it serves HTTPS."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, port: int = 0) -> None:
        self._ssl_context = ssl_context
        self._port = port
        self._recorded: list[RecordedRequest] = []
        self._record_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handle(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), _handler_class(self._serve))
        if self._ssl_context is not None:
            self._server.socket = self._ssl_context.wrap_socket(
                self._server.socket, server_side=True
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not running: call start() first")
        host, port = self._server.server_address[:2]
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{host!s}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._record_lock:
            return list(self._recorded)

    def clear_requests(self) -> None:
        with self._record_lock:
            self._recorded.clear()

    def _serve(self, request: RecordedRequest) -> Reply:
        with self._record_lock:
            self._recorded.append(request)
        try:
            return self.handle(request)
        except Exception:
            # Show a bug in the fake to the test, rather than a hung or empty answer.
            return Reply.of_text(500, "fake server error:\n" + traceback.format_exc())


def _handler_class(serve: Callable[[RecordedRequest], Reply]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            reply = serve(self._read())
            if reply.drop:
                self.close_connection = True
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def _read(self) -> RecordedRequest:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            return RecordedRequest(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


class HttpTarget(FakeHTTPServer):
    """Answers each path with its configured reply; `GET /gate/<name>` waits for release."""

    def __init__(
        self, gate_timeout: float = 60.0, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(ssl_context=ssl_context)
        self._replies: dict[str, Reply] = {}
        self._gates: dict[str, threading.Event] = {}
        self._arrivals: dict[str, threading.Event] = {}
        self._gate_lock = threading.Lock()
        self._gate_timeout = gate_timeout

    def set_reply(
        self,
        path: str,
        status: int = 200,
        *,
        json: Any = None,
        text: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer `path` with `json` (or `text`, or an empty body) from now on."""
        if text is not None:
            reply = Reply.of_text(status, text)
        elif json is not None:
            reply = Reply.of_json(status, json)
        else:
            reply = Reply(status)
        self._replies[path] = Reply(reply.status, reply.body, {**reply.headers, **(headers or {})})

    def release(self, name: str) -> None:
        self._gate(name).set()

    def wait_arrived(self, name: str, timeout: float = 10.0) -> bool:
        """Block until a request reached gate `name`; False after `timeout` seconds."""
        return self._arrival(name).wait(timeout)

    def stop(self) -> None:
        with self._gate_lock:
            gates = list(self._gates.values())
        for gate in gates:
            gate.set()  # let blocked handlers finish
        super().stop()

    def handle(self, request: RecordedRequest) -> Reply:
        if request.path.startswith(GATE_PREFIX):
            return self._pass_gate(request.path.removeprefix(GATE_PREFIX))
        return self._replies.get(request.path) or Reply.of_json(200, {"ok": True})

    def _pass_gate(self, name: str) -> Reply:
        self._arrival(name).set()
        if not self._gate(name).wait(self._gate_timeout):
            return Reply.of_json(504, {"gate": name, "released": False})
        return Reply.of_json(200, {"gate": name, "released": True})

    def _gate(self, name: str) -> threading.Event:
        with self._gate_lock:
            return self._gates.setdefault(name, threading.Event())

    def _arrival(self, name: str) -> threading.Event:
        with self._gate_lock:
            return self._arrivals.setdefault(name, threading.Event())
