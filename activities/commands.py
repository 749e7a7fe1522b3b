"""Run a runbook session's commands: `session.run_command` and `session.run_rollback`.

The command arrives rendered and shell-quoted by the workflow; it runs with the `local`
or the `ssh` connector. While it runs, the activity heartbeats every couple of seconds
with `{started, pid, host, output_tail}`: Temporal learns that the worker is alive, a
cancel request reaches the command (the connector then stops its process group), and
the API can show the live output tail (it is in the pending activity's heartbeat
details of `describe()`).

Crash safety: the heartbeat says `started` before the command is spawned. An attempt
that finds such details from an earlier attempt (the worker died, the connection broke,
the attempt timed out) stops what is left of that command if it still runs, then runs the
command again only if the step is `idempotent`; otherwise it fails for good with
StepMayHaveRun, and the session rolls back.

A result that misses the step's `expect` fails the attempt with ExpectationNotMet,
carrying the result in its details, so the step's retry policy applies to it.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.deps import ActivityDeps
from activities.errors import as_activity_failure
from connectors.commands import (
    CommandConnectorError,
    CommandResult,
    CommandSpec,
    ConnectionLostError,
    HostUnreachableError,
)
from connectors.local import kill_local_group, run_local
from connectors.ssh import SshTarget, kill_remote, remote_process_alive, run_ssh
from workflows.names import RUN_COMMAND_ACTIVITY, RUN_ROLLBACK_ACTIVITY
from workflows.session_checks import tail, unmet_expectation
from workflows.session_models import CommandOutcome, CommandRequest

SshTargetResolver = Callable[[str, str], Awaitable[SshTarget]]
"""(org_id, connection name) -> the decrypted SSH target (services.connections)."""

HEARTBEAT_EVERY_SECONDS = 2.0
HEARTBEAT_TAIL_CHARS = 2000
OUTPUT_BEAT_SECONDS = 0.5  # new output heartbeats at most this often (the ticker too)
EXPECTATION_NOT_MET = "ExpectationNotMet"
STEP_MAY_HAVE_RUN = "StepMayHaveRun"


class CommandActivities:
    def __init__(self, deps: ActivityDeps, ssh_targets: SshTargetResolver | None = None) -> None:
        self._deps = deps
        self._ssh_targets = ssh_targets

    @activity.defn(name=RUN_COMMAND_ACTIVITY)
    async def run_command(self, request: CommandRequest) -> CommandOutcome:
        return await self._run(request)

    @activity.defn(name=RUN_ROLLBACK_ACTIVITY)
    async def run_rollback(self, request: CommandRequest) -> CommandOutcome:
        return await self._run(request)

    async def _run(self, request: CommandRequest) -> CommandOutcome:
        info = activity.info()
        what = f"{request.purpose} '{request.step}'"
        with as_activity_failure(what):
            target = await self._target(request)
            live = _LiveOutput(target.address if target else socket.gethostname())
            earlier = _earlier_attempt(info.heartbeat_details)
            if earlier is not None:
                await _settle_earlier_attempt(request, earlier, target, live.host)
            result = await _execute(request, target, live)
        outcome = _outcome(result, info.attempt)
        problem = unmet_expectation(request.expect, outcome)
        if problem is not None:
            final = not request.idempotent or info.attempt >= request.maximum_attempts
            raise ApplicationError(
                f"{what} on {outcome.host}: {problem}",
                outcome.model_dump(mode="json"),
                type=EXPECTATION_NOT_MET,
                non_retryable=final,
                category=ApplicationErrorCategory.BENIGN,  # an answer, not a worker problem
            )
        return outcome

    async def _target(self, request: CommandRequest) -> SshTarget | None:
        if request.connector == "local":
            return None
        if not request.connection:
            raise CommandConnectorError(f"'{request.step}' runs over ssh but names no connection")
        if self._ssh_targets is None:
            raise CommandConnectorError(
                "this worker cannot resolve ssh connections; start it with `fireline worker`"
            )
        return await self._ssh_targets(request.org_id, request.connection)


class _LiveOutput:
    """The heartbeat of a running command: pid, host and the tail of its output."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.pid: int | None = None
        self._tail = ""
        self._last_output_beat = 0.0

    def beat(self, *, started: bool = True) -> None:
        activity.heartbeat(
            {"started": started, "pid": self.pid, "host": self.host, "output_tail": self._tail}
        )

    def on_started(self, pid: int) -> None:
        self.pid = pid
        self.beat()

    def on_output(self, stream: str, text: str) -> None:
        self._tail = tail(self._tail + text, HEARTBEAT_TAIL_CHARS)
        now = time.monotonic()
        if now - self._last_output_beat >= OUTPUT_BEAT_SECONDS:  # a chatty command
            self._last_output_beat = now
            self.beat()

    async def keep_beating(self) -> None:
        """A quiet command still heartbeats, so a cancel request reaches it."""
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY_SECONDS)
            self.beat()


async def _execute(
    request: CommandRequest, target: SshTarget | None, live: _LiveOutput
) -> CommandResult:
    spec = CommandSpec(
        command=request.command,
        timeout_seconds=request.timeout_seconds,
        output_limit=request.output_limit,
        env=_markers(request),
    )
    live.beat(started=True)  # before the spawn: a retry must know it may have run
    ticker = asyncio.create_task(live.keep_beating())
    try:
        if target is None:
            return await run_local(spec, live.on_output, on_started=live.on_started)
        return await run_ssh(target, spec, live.on_output, on_started=live.on_started)
    except HostUnreachableError as err:
        if not isinstance(err, ConnectionLostError):
            live.beat(started=False)  # no session was opened: nothing ran
        raise
    finally:
        ticker.cancel()


def _earlier_attempt(details: Sequence[Any]) -> dict[str, Any] | None:
    if not details or not isinstance(details[0], dict):
        return None
    earlier: dict[str, Any] = details[0]
    return earlier if earlier.get("started") else None


async def _settle_earlier_attempt(
    request: CommandRequest, earlier: dict[str, Any], target: SshTarget | None, host: str
) -> None:
    """Stop what an earlier attempt left running; refuse to repeat a non-idempotent step."""
    pid = earlier.get("pid")
    stopped = False
    if isinstance(pid, int) and earlier.get("host") == host:
        stopped = await _stop_leftover(request, pid, target)
    if request.idempotent:
        activity.logger.info("running idempotent step %s again", request.step)
        return
    where = f"pid {pid} on {earlier.get('host')}" if pid else f"pid unknown, {earlier.get('host')}"
    still = "; it was still running and has been stopped" if stopped else ""
    raise ApplicationError(
        f"step {request.step} may already have run ({where}); it is not marked idempotent, "
        f"so it is not run again{still}",
        type=STEP_MAY_HAVE_RUN,
        non_retryable=True,
    )


async def _stop_leftover(request: CommandRequest, pid: int, target: SshTarget | None) -> bool:
    if target is not None:
        if not await remote_process_alive(target, pid):
            return False
        return await kill_remote(target, pid)
    if not _is_our_local_command(pid, request):
        return False
    return await kill_local_group(pid)


def _is_our_local_command(pid: int, request: CommandRequest) -> bool:
    """Whether `pid` still runs this session's step (not a recycled pid): its environment
    carries the markers `_execute` sets, which survive the shell exec-ing the command."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    wanted = _markers(request)
    return all(f"{name}={value}".encode() in environ for name, value in wanted.items())


def _markers(request: CommandRequest) -> dict[str, str]:
    return {"FIRELINE_SESSION_ID": request.session_id, "FIRELINE_STEP": request.step}


def _outcome(result: CommandResult, attempt: int) -> CommandOutcome:
    return CommandOutcome(
        exit_code=result.exit_code,
        stdout=result.stdout,
        stderr=result.stderr,
        stdout_truncated=result.stdout_truncated,
        stderr_truncated=result.stderr_truncated,
        duration_seconds=result.duration_seconds,
        timed_out=result.timed_out,
        pid=result.pid,
        host=result.host,
        attempt=attempt,
    )
