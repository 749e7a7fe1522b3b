"""Helpers for the command connector tests: is a process gone, wait for a condition."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

POLL_ATTEMPTS = 1000
POLL_INTERVAL_SECONDS = 0.02


def process_gone(pid: int) -> bool:
    """True when no process has this pid, or only its zombie is left (nobody reaped it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    state = stat.rsplit(")", 1)[1].split()[0]
    return state in ("Z", "X")


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], what: str, attempts: int = POLL_ATTEMPTS
) -> None:
    """Polls the condition a bounded number of times; fails naming what never happened."""
    for _ in range(attempts):
        outcome = condition()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        await asyncio.sleep(POLL_INTERVAL_SECONDS)
    raise AssertionError(f"never happened: {what}")


class Chunks:
    """An on_output callback that records (stream, text) and can wait for some text."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self._changed = asyncio.Event()

    def __call__(self, stream: str, text: str) -> None:
        self.received.append((stream, text))
        self._changed.set()

    def text(self, stream: str = "stdout") -> str:
        return "".join(text for name, text in self.received if name == stream)

    async def first_line(self, running: asyncio.Task[Any], stream: str = "stdout") -> str:
        """Waits until a whole first line arrived on the stream, or fails if the command
        ended without one."""
        while "\n" not in self.text(stream):
            if running.done():
                raise AssertionError(f"the command ended without a line: {running.result()}")
            self._changed.clear()
            changed = asyncio.ensure_future(self._changed.wait())
            await asyncio.wait({changed, running}, return_when=asyncio.FIRST_COMPLETED)
            changed.cancel()
        return self.text(stream).split("\n", 1)[0]
