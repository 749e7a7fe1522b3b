"""Runbook sessions to record: every shipped runbook once, and every branch of the session
workflow on a small runbook (approved by Update and by Signal, a Signal refused, rejected,
timed out after escalation, a failed step undone, a failed postcheck, a retried step, a
cancel, auto mode).

They run on the time-skipping server with the real worker, so the hour-long approval
timeouts pass at once; commands run on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from dsl.compiler import compile_file
from dsl.runbook_plan import RunbookPlan
from tests.conftest import REPO
from tests.fakes.http_target import FakeHTTPServer, RecordedRequest, Reply
from tests.platform.harness import eventually
from tests.store.databases import sqlite_database
from tests.workflows.conftest import register_search_attributes
from tests.workflows.sessions import (
    SessionHandle,
    SessionRig,
    idle,
    state_of,
    wait_for,
    waiting_for,
)
from workflows.session import RunbookSession
from workflows.session_models import ApprovalDecision, SessionState, SignalDecision

BRANCHES = """
runbook:
  id: branches
  name: Every branch of a session
  consts: {dir: "@DIR@"}
  inputs:
    - {name: fail_at, type: string, default: nowhere, description: The step that fails}
  approval:
    roles: [SRE_LEAD]
    timeout: 1h
    on_timeout: escalate
    escalate_to: [ORG_ADMIN]
    escalation_timeout: 30m
  prechecks:
    - name: ready
      run: test -d {{ consts.dir }}
      connector: local
  steps:
    - name: prepare
      run: echo prepare >> {{ consts.dir }}/log
      connector: local
      rollback: echo undo prepare >> {{ consts.dir }}/log
    - name: flaky
      run: test -e {{ consts.dir }}/flaky || { touch {{ consts.dir }}/flaky; exit 1; }
      connector: local
      idempotent: true
      retry: {maximum_attempts: 3, initial_interval: 1s}
    - name: change
      run: echo change >> {{ consts.dir }}/log; test {{ inputs.fail_at }} != change
      connector: local
      requires_approval: true
      rollback: echo undo change >> {{ consts.dir }}/log
  postchecks:
    - name: verify
      run: test {{ inputs.fail_at }} != verify
      connector: local
"""

Drive = Callable[[SessionHandle], Awaitable[None]]
# Each scenario takes a few seconds: past this, one that hangs fails instead (not a timing).
SCENARIO_DEADLINE = 300


@dataclass
class SessionScenario:
    name: str
    plan: Callable[[SessionRig], RunbookPlan]
    drive: Drive
    inputs: dict[str, Any] = field(default_factory=dict)
    mode: str = "auto"  # above the auto threshold: only `change` asks for approval


async def approve(handle: SessionHandle, step: str = "change") -> None:
    await waiting_for(handle, step)
    decision = ApprovalDecision(
        step=step, approve=True, approver="bob", approver_roles=["SRE_LEAD"]
    )
    await handle.execute_update(RunbookSession.decide, decision)


async def reject(handle: SessionHandle) -> None:
    await waiting_for(handle, "change")
    decision = ApprovalDecision(
        step="change", approve=False, approver="bob", approver_roles=["SRE_LEAD"], note="not now"
    )
    await handle.execute_update(RunbookSession.decide, decision)


async def approve_by_signal(handle: SessionHandle) -> None:
    await waiting_for(handle, "change")
    decision = SignalDecision(step="change", approver="bob", roles=["SRE_LEAD"])
    await handle.signal(RunbookSession.approve, decision)


async def signal_without_roles(handle: SessionHandle) -> None:
    """As `temporal workflow signal` sends it when nobody adds roles: the session keeps
    the refusal and waits on, until the approval times out."""
    await waiting_for(handle, "change")
    await handle.signal(RunbookSession.approve, SignalDecision(step="change", approver="bob"))
    await wait_for(handle, lambda s: len(s.refusals) == 1)


async def cancel(handle: SessionHandle) -> None:
    """Cancel once the approval's timer runs. Cancelled while the approval notice is in
    flight, the session asks to cancel that activity as it completes: a real server takes
    it, the time-skipping server refuses the task (ACTIVITY_UNKNOWN) and its retries never
    end, so the recording would hang."""
    await waiting_for(handle, "change")
    await eventually(lambda: idle(handle))
    await handle.cancel()


async def approve_every_step(handle: SessionHandle) -> None:
    """In HIL mode every step asks: approve each one until the session ends."""
    while True:
        state = await wait_for(handle, lambda s: s.pending is not None or s.finished_at is not None)
        if state.pending is None:
            return
        await approve(handle, state.pending.step)


async def nothing(handle: SessionHandle) -> None:
    """Nobody decides: the approval times out, escalates and times out again."""


def branches(rig: SessionRig) -> RunbookPlan:
    return rig.runbook(BRANCHES)


def shipped(runbook_id: str) -> Callable[[SessionRig], RunbookPlan]:
    def compiled(rig: SessionRig) -> RunbookPlan:
        result = compile_file(REPO / "yaml_workflows" / f"{runbook_id}.yaml")
        assert result.runbook is not None, [str(d) for d in result.diagnostics]
        return result.runbook

    return compiled


def scenarios(flags_url: str) -> list[SessionScenario]:
    return [
        SessionScenario("approved", branches, approve),
        SessionScenario("approved-by-signal", branches, approve_by_signal),
        SessionScenario("signal-refused", branches, signal_without_roles),
        SessionScenario("rejected", branches, reject),
        SessionScenario("timed-out", branches, nothing),
        SessionScenario("failed-step-rolled-back", branches, approve, {"fail_at": "change"}),
        SessionScenario("failed-postcheck", branches, approve, {"fail_at": "verify"}),
        SessionScenario("cancelled", branches, cancel),
        SessionScenario("hil-every-step", branches, approve_every_step, mode="hil"),
        SessionScenario(
            "restart-systemd-service",
            shipped("restart-systemd-service"),
            approve_every_step,
            {"service": "fireline-recording-no-such-unit", "health_url": f"{flags_url}/health"},
        ),
        SessionScenario(
            "clear-disk-space",
            shipped("clear-disk-space"),
            approve_every_step,
            {"mount": "@DIR@", "threshold_percent": 0, "directory": "@DIR@"},
        ),
        SessionScenario(
            "disable-feature-flag",
            shipped("disable-feature-flag"),
            approve_every_step,
            {"flag": "new-checkout", "flags_api": flags_url, "health_url": f"{flags_url}/health"},
        ),
    ]


class FlagService(FakeHTTPServer):
    """A feature-flag API whose flags are all on, and a health URL that answers 200."""

    def handle(self, request: RecordedRequest) -> Reply:
        if request.path == "/health":
            return Reply.of_text(200, "ok")
        return Reply.of_json(200, {"key": request.path.rsplit("/", 1)[-1], "enabled": True})


@dataclass(frozen=True)
class RecordedSession:
    handle: SessionHandle
    final: SessionState


async def record_sessions(env: WorkflowEnvironment, scratch: Path) -> dict[str, RecordedSession]:
    """Run every scenario to its end, each with its own database and directory under
    `scratch`; returns each scenario's session by name."""
    await register_search_attributes(env)
    recorded: dict[str, RecordedSession] = {}
    with FlagService() as flags:
        for scenario in scenarios(flags.url):
            folder = scratch / scenario.name
            folder.mkdir(parents=True)
            async with sqlite_database(folder) as db:
                rig = SessionRig.create(env, db, folder)
                rig.use_providers({"feature_flags": {"type": "http", "authentication": {}}})
                recorded[scenario.name] = await _run(rig, scenario)
    return recorded


async def _run(rig: SessionRig, scenario: SessionScenario) -> RecordedSession:
    incident = await rig.incident(title="Checkout 5xx after deploy")
    async with rig.worker():
        handle = await rig.start(
            scenario.plan(rig),
            incident=incident,
            mode=scenario.mode,  # type: ignore[arg-type]
            confidence=0.95,
            inputs={k: _in(rig, v) for k, v in scenario.inputs.items()},
        )
        try:
            async with asyncio.timeout(SCENARIO_DEADLINE):
                await _drive_to_end(scenario, handle)
        except TimeoutError:
            raise AssertionError(f"session {scenario.name} did not end; see its history") from None
        final = await state_of(handle)  # queried while its worker still runs
    status = (await handle.describe()).status
    run = status.name.lower() if status else "?"
    print(f"  session {scenario.name}: {final.status} (run {run})", flush=True)
    return RecordedSession(handle, final)


async def _drive_to_end(scenario: SessionScenario, handle: SessionHandle) -> None:
    await scenario.drive(handle)
    # A cancelled session's result is an error; its history is what is kept.
    with contextlib.suppress(WorkflowFailureError):
        await handle.result()


def _in(rig: SessionRig, value: Any) -> Any:
    """An input naming `@DIR@` gets the scenario's own directory (under /tmp)."""
    return str(rig.dir) if value == "@DIR@" else value
