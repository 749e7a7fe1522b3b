"""Commands of a session: shell quoting end to end, and the command activity's crash
safety when an earlier attempt left its command behind."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.commands import STEP_MAY_HAVE_RUN, CommandActivities
from activities.deps import ActivityDeps
from tests.workflows.sessions import SessionRig
from workflows.session_models import CommandRequest

QUOTING = """
runbook:
  id: quoting
  name: Quoting
  consts: {out: "@DIR@/out"}
  steps:
    - name: show
      run: printf '%s\\n' {{ incident.service }} {{ incident.title }} > {{ consts.out }}
      connector: local
    - name: reuse
      run: printf '%s\\n' {{ steps.show.stdout }} {{ incident.service }} >> {{ consts.out }}
      connector: local
"""


async def test_incident_values_reach_the_command_as_literal_words(ts_rig: SessionRig) -> None:
    service = f"x; touch {ts_rig.dir}/pwned"
    title = f'$(touch {ts_rig.dir}/pwned2) `touch {ts_rig.dir}/pwned3` it\'s "5xx"'
    incident = await ts_rig.incident(service=service, title=title)
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(QUOTING), incident=incident, mode="auto", confidence=0.9
        )
        final = await handle.result()

    assert final.status == "completed"
    assert ts_rig.lines(ts_rig.dir / "out") == [service, title, "", service]
    assert not list(ts_rig.dir.glob("pwned*"))


# --- the activity on its own: what an earlier attempt left behind --------------------


@dataclasses.dataclass
class Leftover:
    """The command of an earlier attempt, still running (as after a worker crash). Run
    again once `flag` exists, the same command line ends at once."""

    command: str
    flag: Path
    process: subprocess.Popen[bytes]


@pytest.fixture
def leftover(tmp_path: Path) -> Iterator[Leftover]:
    flag = tmp_path / "flag"
    command = f"[ -e {flag} ] && echo again || sleep 1000"
    markers = {"FIRELINE_SESSION_ID": "s-1", "FIRELINE_STEP": "restart"}  # as the activity sets
    process = subprocess.Popen(
        ["/bin/sh", "-c", command], start_new_session=True, env={**os.environ, **markers}
    )
    yield Leftover(command, flag, process)
    if process.poll() is None:
        process.kill()
    process.wait()


@pytest.fixture
async def commands(tmp_path: Path) -> AsyncIterator[CommandActivities]:
    from tests.store.databases import sqlite_database

    async with sqlite_database(tmp_path) as db:
        yield CommandActivities(ActivityDeps(db=db, providers_file=tmp_path / "none.yaml"))


def second_attempt(details: dict[str, Any]) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=2, heartbeat_details=[details])
    return env


def request(command: str, *, idempotent: bool) -> CommandRequest:
    return CommandRequest(
        session_id="s-1",
        org_id="acme",
        step="restart",
        command=command,
        connector="local",
        timeout_seconds=30,
        output_limit=1024,
        idempotent=idempotent,
    )


def earlier(pid: int | None, *, started: bool = True) -> dict[str, Any]:
    return {"started": started, "pid": pid, "host": socket.gethostname(), "output_tail": ""}


async def test_a_non_idempotent_step_is_refused_and_its_leftover_stopped(
    commands: CommandActivities, leftover: Leftover
) -> None:
    env = second_attempt(earlier(leftover.process.pid))
    with pytest.raises(ApplicationError) as refused:
        await env.run(commands.run_command, request(leftover.command, idempotent=False))

    message = refused.value.message
    assert refused.value.type == STEP_MAY_HAVE_RUN and refused.value.non_retryable
    assert f"step restart may already have run (pid {leftover.process.pid} on " in message
    assert "it was still running and has been stopped" in message
    assert leftover.process.wait(timeout=10) is not None
    assert not leftover.flag.exists()


async def test_an_idempotent_step_stops_the_leftover_and_runs_again(
    commands: CommandActivities, leftover: Leftover
) -> None:
    leftover.flag.touch()
    env = second_attempt(earlier(leftover.process.pid))
    outcome = await env.run(commands.run_command, request(leftover.command, idempotent=True))

    assert (outcome.exit_code, outcome.stdout, outcome.attempt) == (0, "again\n", 2)
    assert leftover.process.wait(timeout=10) is not None


async def test_a_pid_running_something_else_is_never_signalled(
    commands: CommandActivities, leftover: Leftover
) -> None:
    other_step = request("echo other", idempotent=False).model_copy(update={"step": "other"})
    env = second_attempt(earlier(leftover.process.pid))
    with pytest.raises(ApplicationError) as refused:
        await env.run(commands.run_command, other_step)

    assert refused.value.type == STEP_MAY_HAVE_RUN
    assert "still running" not in refused.value.message
    assert leftover.process.poll() is None  # not this step's process: not ours to stop


async def test_an_attempt_that_never_started_its_command_runs_it(
    commands: CommandActivities, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    env = second_attempt(earlier(None, started=False))
    outcome = await env.run(commands.run_command, request(f"touch {marker}", idempotent=False))

    assert outcome.exit_code == 0 and marker.exists()


async def test_a_missed_expectation_carries_the_result(commands: CommandActivities) -> None:
    env = ActivityEnvironment()
    with pytest.raises(ApplicationError) as failed:
        await env.run(commands.run_command, request("echo out; exit 5", idempotent=False))

    assert failed.value.type == "ExpectationNotMet" and failed.value.non_retryable
    (details,) = failed.value.details
    assert (details["exit_code"], details["stdout"]) == (5, "out\n")
