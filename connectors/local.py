"""Run a shell command on the worker's own machine (the `local` connector).

The command runs as `/bin/sh -c command` in a new session, so it leads its own process
group: a timeout or a cancellation signals the whole group (the command's children too),
SIGTERM first and SIGKILL after `spec.kill_grace_seconds`. A command that ends normally
is not killed: what it left running on purpose in the background (a daemon) stays.

Environment: the command does not inherit the worker's environment, which holds the
worker's own secrets (database URL, signing keys). It gets what an SSH login would give:
PATH, HOME, USER, LOGNAME, SHELL and LANG, then `spec.env` on top.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import signal
import time
from asyncio.subprocess import DEVNULL, PIPE, Process
from contextlib import suppress
from pathlib import Path

from connectors.commands import (
    KILL_GRACE_SECONDS,
    READ_CHUNK_BYTES,
    CommandConnectorError,
    CommandResult,
    CommandSpec,
    OutputCallback,
    OutputCapture,
    StartedCallback,
    StreamCapture,
    call_back,
    exit_code_of_signal,
)

LOCAL_HOST = "localhost"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# After SIGKILL, how long the output readers may take to see the pipes close. Longer only
# when a process left the group (its own setsid) and still holds the pipes.
DRAIN_AFTER_KILL_SECONDS = 2.0


async def run_local(
    spec: CommandSpec,
    on_output: OutputCallback | None = None,
    *,
    on_started: StartedCallback | None = None,
) -> CommandResult:
    """Runs the command; returns its result, also on a non-zero exit or a timeout.

    Cancelling the calling task stops the command's process group and re-raises
    `CancelledError`. An exception from a callback stops it too and propagates.
    """
    started_at = time.monotonic()
    process = await _spawn(spec)
    output = OutputCapture(spec.output_limit, on_output)
    work = asyncio.create_task(_communicate(process, output))
    try:
        if on_started is not None:
            await call_back(on_started, process.pid)
        done, _ = await asyncio.wait({work}, timeout=spec.timeout_seconds)
    except BaseException:
        await _stop_group(process, work, spec.kill_grace_seconds)
        _ignore_outcome(work)
        raise
    timed_out = not done
    if timed_out:
        await _stop_group(process, work, spec.kill_grace_seconds)
        _ignore_outcome(work)
    elif work.exception() is not None:
        await _stop_group(process, asyncio.create_task(process.wait()), spec.kill_grace_seconds)
        work.result()
    return output.result(
        exit_code=None if timed_out else _exit_code(process),
        duration_seconds=time.monotonic() - started_at,
        timed_out=timed_out,
        cancelled=False,
        pid=process.pid,
        host=LOCAL_HOST,
    )


async def _spawn(spec: CommandSpec) -> Process:
    try:
        return await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            spec.command,
            stdin=DEVNULL,
            stdout=PIPE,
            stderr=PIPE,
            cwd=spec.cwd,
            env=_environment(spec),
            start_new_session=True,
        )
    except (FileNotFoundError, NotADirectoryError, PermissionError) as err:
        where = f"working directory {spec.cwd!r}" if spec.cwd else "/bin/sh"
        raise CommandConnectorError(
            f"cannot start the command on {LOCAL_HOST}: {where}: {err.strerror}; "
            "check the step's working directory"
        ) from None


def _environment(spec: CommandSpec) -> dict[str, str]:
    try:
        account = pwd.getpwuid(os.getuid())
        home, user = account.pw_dir, account.pw_name
    except KeyError:  # a container user without a passwd entry
        home, user = "/", str(os.getuid())
    base = {
        "PATH": DEFAULT_PATH,
        "HOME": home,
        "USER": user,
        "LOGNAME": user,
        "SHELL": "/bin/sh",
        "LANG": "C.UTF-8",
    }
    return {**base, **spec.env}


async def _communicate(process: Process, output: OutputCapture) -> int:
    assert process.stdout is not None and process.stderr is not None
    readers = [
        asyncio.create_task(_pump(process.stdout, output.stdout)),
        asyncio.create_task(_pump(process.stderr, output.stderr)),
    ]
    try:
        await asyncio.gather(*readers)
    finally:
        for reader in readers:
            reader.cancel()  # no-op for a finished one; stops the other after a failure
    return await process.wait()


async def _pump(reader: asyncio.StreamReader, capture: StreamCapture) -> None:
    while chunk := await reader.read(READ_CHUNK_BYTES):
        await capture.feed(chunk)
    await capture.close()


async def _stop_group(process: Process, finished: asyncio.Task[int], grace: float) -> None:
    """SIGTERM the group, SIGKILL it if `finished` is not done after `grace` seconds."""
    try:
        _signal_group(process.pid, signal.SIGTERM)
        if await _done_within(finished, grace):
            return
        _signal_group(process.pid, signal.SIGKILL)
        if not await _done_within(finished, DRAIN_AFTER_KILL_SECONDS):
            finished.cancel()
    except asyncio.CancelledError:
        # Cancelled again while stopping: no more grace.
        _signal_group(process.pid, signal.SIGKILL)
        finished.cancel()
        raise


def _signal_group(pgid: int, signum: signal.Signals) -> bool:
    """Send `signum` to the group; False when it no longer exists (or is not ours)."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


async def kill_local_group(pgid: int, *, grace_seconds: float = KILL_GRACE_SECONDS) -> bool:
    """SIGTERM a command's process group left over by an earlier attempt, SIGKILL it if it
    outlives the grace period; False when nothing was left to stop."""
    if not _signal_group(pgid, signal.SIGTERM):
        return False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_seconds
    while loop.time() < deadline:
        if not local_group_alive(pgid):
            return True
        await asyncio.sleep(0.1)
    _signal_group(pgid, signal.SIGKILL)
    return True


def local_group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs. Zombies do not count: an orphaned child
    waits as one until PID 1 reaps it, and a signal to the group still "reaches" it."""
    with suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)  # reap the leader if it happens to be our child
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _parent, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue  # gone meanwhile
        if int(group) == pgid and state != "Z":
            return True
    return False


async def _done_within(task: asyncio.Task[int], seconds: float) -> bool:
    done, _ = await asyncio.wait({task}, timeout=seconds)
    return bool(done)


def _ignore_outcome(task: asyncio.Task[int]) -> None:
    """The command was stopped: what its readers ended with no longer matters."""
    if task.done() and not task.cancelled():
        task.exception()


def _exit_code(process: Process) -> int | None:
    code = process.returncode
    if code is None:
        return None
    return exit_code_of_signal(-code) if code < 0 else code
