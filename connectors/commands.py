"""What a shell command connector takes and returns, shared by `local` and `ssh`.

A `CommandSpec` holds a command that is already rendered and shell-quoted by the caller;
connectors run it with `/bin/sh -c` and never re-render it. Output is read as it comes:
every chunk goes to the caller's `on_output` callback (so an activity can heartbeat and
publish it live), and only the tail of each stream is kept (`output_limit` bytes), with a
flag saying whether anything was cut.

Exit codes follow the shell's convention on both connectors: a command killed by a signal
reports `128 + signal number`. When the connector stopped the command on a timeout,
`exit_code` is None and `timed_out` is True: the code would only tell how our own kill
landed. A cancelled run raises `CancelledError` (after stopping the command), so
`run_local`/`run_ssh` never return `cancelled=True`; the field is there for callers that
record a cancelled run with what was streamed so far.
"""

from __future__ import annotations

import codecs
import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from connectors.errors import ConnectorError

OutputCallback = Callable[[str, str], Awaitable[None] | None]
"""Called with the stream name ("stdout" or "stderr") and a decoded chunk of text."""

StartedCallback = Callable[[int], Awaitable[None] | None]
"""Called once with the PID of the command (its process group leader) when it starts."""

KILL_GRACE_SECONDS = 5.0
READ_CHUNK_BYTES = 64 * 1024
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class CommandSpec:
    command: str  # rendered and quoted by the caller; run as `/bin/sh -c command`
    timeout_seconds: float
    output_limit: int  # bytes kept per stream: the tail
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    # After SIGTERM, how long the command may take to exit before SIGKILL.
    kill_grace_seconds: float = KILL_GRACE_SECONDS

    def __post_init__(self) -> None:
        if not self.command.strip():
            raise ValueError("command is empty")
        if self.timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0, got {self.timeout_seconds}")
        if self.output_limit < 0:
            raise ValueError(f"output_limit must be >= 0, got {self.output_limit}")
        if self.kill_grace_seconds < 0:
            raise ValueError(f"kill_grace_seconds must be >= 0, got {self.kill_grace_seconds}")
        bad = sorted(name for name in self.env if not _ENV_NAME.fullmatch(name))
        if bad:
            raise ValueError(f"environment variable names must match [A-Za-z_][A-Za-z0-9_]*: {bad}")


@dataclass(frozen=True)
class CommandResult:
    exit_code: int | None  # None when timed out or cancelled; 128+N when killed by signal N
    stdout: str  # the tail of the output, at most output_limit bytes of UTF-8
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    duration_seconds: float
    timed_out: bool
    cancelled: bool
    pid: int | None
    host: str

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0


class CommandConnectorError(ConnectorError):
    """Running a command failed before it could report an exit code."""

    default_retryable = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(
            message, retryable=self.default_retryable if retryable is None else retryable
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.message, self.retryable))


def _rebuild(
    cls: type[CommandConnectorError], message: str, retryable: bool
) -> CommandConnectorError:
    return cls(message, retryable=retryable)


class HostKeyError(CommandConnectorError):
    """The host could not be trusted: its key is unknown or not the one we trust."""


class HostKeyMismatchError(HostKeyError):
    """The host's key is not the one we trust: maybe rebuilt, maybe someone in between."""


class HostKeyNotConfiguredError(HostKeyError):
    """We hold no key for the host: we never trust a key on first use."""


class AuthenticationFailedError(CommandConnectorError):
    """The host refused our key or password (or the key could not be loaded)."""


class HostUnreachableError(CommandConnectorError):
    """No connection: refused, timed out, unknown name. A later try may work."""

    default_retryable = True


class ConnectionLostError(HostUnreachableError):
    """The connection broke while the command ran: the command may still be running."""


class TailBuffer:
    """Keeps the last `limit` bytes written to it, and whether anything was dropped."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._data = bytearray()
        self.truncated = False

    def append(self, chunk: bytes) -> None:
        self._data += chunk
        excess = len(self._data) - self._limit
        if excess > 0:
            del self._data[:excess]
            self.truncated = True

    def text(self) -> str:
        data = bytes(self._data)
        if self.truncated:
            data = _without_leading_continuation_bytes(data)
        return data.decode("utf-8", errors="replace")


def _without_leading_continuation_bytes(data: bytes) -> bytes:
    """Drops the rest of a UTF-8 character whose first bytes the tail cut off."""
    start = 0
    while start < min(len(data), 3) and data[start] & 0xC0 == 0x80:
        start += 1
    return data[start:]


class StreamCapture:
    """One output stream: decodes chunks for the callback and keeps the bounded tail."""

    def __init__(self, name: str, limit: int, on_output: OutputCallback | None) -> None:
        self.name = name
        self.tail = TailBuffer(limit)
        self._on_output = on_output
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    async def feed(self, chunk: bytes) -> None:
        self.tail.append(chunk)
        await self._emit(self._decoder.decode(chunk))

    async def close(self) -> None:
        await self._emit(self._decoder.decode(b"", final=True))

    async def _emit(self, text: str) -> None:
        if text and self._on_output is not None:
            await call_back(self._on_output, self.name, text)


class OutputCapture:
    """stdout and stderr of one command."""

    def __init__(self, limit: int, on_output: OutputCallback | None) -> None:
        self.stdout = StreamCapture("stdout", limit, on_output)
        self.stderr = StreamCapture("stderr", limit, on_output)

    def result(
        self,
        *,
        exit_code: int | None,
        duration_seconds: float,
        timed_out: bool,
        cancelled: bool,
        pid: int | None,
        host: str,
    ) -> CommandResult:
        return CommandResult(
            exit_code=exit_code,
            stdout=self.stdout.tail.text(),
            stderr=self.stderr.tail.text(),
            stdout_truncated=self.stdout.tail.truncated,
            stderr_truncated=self.stderr.tail.truncated,
            duration_seconds=duration_seconds,
            timed_out=timed_out,
            cancelled=cancelled,
            pid=pid,
            host=host,
        )


async def call_back(callback: Callable[..., Awaitable[None] | None], *args: object) -> None:
    """Calls a callback that may be a plain function or a coroutine function."""
    outcome = callback(*args)
    if inspect.isawaitable(outcome):
        await outcome


def exit_code_of_signal(signal_number: int) -> int:
    return 128 + signal_number
