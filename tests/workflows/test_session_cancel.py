"""Cancelling a session while a command runs: the command's process stops, the
compensations run, and the run ends as Cancelled (dev server: real time)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError

from store.enums import EventType
from tests.workflows.sessions import (
    SessionRig,
    eventually,
    replays,
    rollback_view,
    running,
    state_of,
    wait_for,
)
from workflows.names import SA_SESSION_STATUS

LONG_STEP = """
runbook:
  id: long-step
  name: Long step
  consts: {log: "@LOG@", pidfile: "@DIR@/pid"}
  steps:
    - name: s1
      run: echo s1 >> {{ consts.log }}
      connector: local
      rollback: echo undo s1 >> {{ consts.log }}
    - name: wait
      run: echo $$ > {{ consts.pidfile }}; echo waiting >> {{ consts.log }}; sleep 1000
      connector: local
      timeout: 1h
      rollback: echo undo wait >> {{ consts.log }}
"""


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process of the group remains. An orphaned child waits
    as a zombie until PID 1 reaps it, and a signal to the group still "reaches" it."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            return True
    return False


async def test_cancelling_during_a_command_stops_it_and_rolls_back(dev_rig: SessionRig) -> None:
    incident = await dev_rig.incident()
    pidfile = dev_rig.dir / "pid"
    async with dev_rig.worker():
        handle = await dev_rig.start(
            dev_rig.runbook(LONG_STEP), incident=incident, mode="auto", confidence=0.9
        )
        await running(handle, "wait")
        await eventually(lambda: _lines_include(dev_rig, "waiting"))
        pid = int(pidfile.read_text())
        assert group_alive(pid)

        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
        assert isinstance(failure.value.cause, CancelledError)
        final = await state_of(handle)
        # Gone before the worker stops: the session waited for the command to be stopped.
        assert not group_alive(pid)

    assert dev_rig.lines() == ["s1", "waiting", "undo wait", "undo s1"]
    assert final.cancelled and final.status == "rolled_back"
    assert rollback_view(final) == [("wait", "undone"), ("s1", "undone")]
    wait = final.step("wait")
    assert wait is not None and wait.status == "failed"
    assert final.error == "the session was cancelled"
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.CANCELED
    assert description.typed_search_attributes.get(SA_SESSION_STATUS) == "rolled_back"
    events = await dev_rig.events(incident["id"])
    (action,) = [e for e in events if e.type == EventType.PLAYBOOK_ACTION_EXECUTED]
    assert action.payload["details"]["status"] == "rolled_back"
    await replays(handle)


APPROVAL_THEN_STEP = """
runbook:
  id: approval-then-step
  name: Approval then step
  consts: {log: "@LOG@"}
  steps:
    - name: s1
      run: echo s1 >> {{ consts.log }}
      connector: local
      rollback: echo undo s1 >> {{ consts.log }}
    - name: s2
      run: echo s2 >> {{ consts.log }}
      connector: local
      requires_approval: true
"""


async def test_cancelling_while_waiting_for_an_approval_rolls_back(dev_rig: SessionRig) -> None:
    async with dev_rig.worker():
        handle = await dev_rig.start(
            dev_rig.runbook(APPROVAL_THEN_STEP), mode="auto", confidence=0.9
        )
        await wait_for(handle, lambda s: s.pending is not None)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        final = await state_of(handle)

    assert dev_rig.lines() == ["s1", "undo s1"]
    assert final.status == "rolled_back" and final.pending is None
    s2 = final.step("s2")
    assert s2 is not None and s2.status == "rejected"


async def _lines_include(rig: SessionRig, line: str) -> bool:
    return line in rig.lines()
