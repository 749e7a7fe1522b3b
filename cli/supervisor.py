"""Run several child processes as one unit: if one dies or Ctrl-C is pressed, stop all."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any


class ChildExitedError(RuntimeError):
    pass


@dataclass
class Supervisor:
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    stopping: bool = False
    _logs: list[IO[Any]] = field(default_factory=list)

    def spawn(self, name: str, argv: list[str], log_file: Path | None = None) -> None:
        output: IO[Any] | None = None
        if log_file is not None:
            output = log_file.open("ab")
            self._logs.append(output)
        self.children[name] = subprocess.Popen(
            argv, stdout=output, stderr=subprocess.STDOUT if output else None
        )

    def check_alive(self) -> None:
        for name, child in self.children.items():
            if child.poll() is not None:
                raise ChildExitedError(f"{name} exited with code {child.returncode}")

    def install_signal_handlers(self) -> None:
        def request_stop(signum: int, _frame: object) -> None:
            self.stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

    def wait(self) -> str | None:
        """Block until Ctrl-C (None) or a child exits (its description)."""
        while not self.stopping:
            try:
                self.check_alive()
            except ChildExitedError as err:
                return str(err)
            time.sleep(0.5)
        return None

    def stop_all(self, grace_seconds: float = 10.0) -> None:
        # Stop in reverse start order: API and worker first, Temporal last.
        for child in reversed(list(self.children.values())):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
                try:
                    child.wait(grace_seconds)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        for log in self._logs:
            with contextlib.suppress(OSError):
                log.close()
