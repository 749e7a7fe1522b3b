"""`make histories` records the session branches it claims, and what it records replays.

The session part of `record.py` runs here in full on the time-skipping server: a scenario
that hangs there (as cancelling during the approval notice once did) fails this test
instead of only the rare re-recording.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from tests.histories.session_scenarios import record_sessions
from tests.workflows.sessions import replays

# The session's status each scenario's script implies. This machine has no systemd, so the
# shipped restart-systemd-service stops at its first precheck; clear-disk-space cannot free
# the disk its precheck found full enough, so its postcheck fails (its steps have no undo).
OUTCOMES = {
    "approved": "completed",
    "approved-by-signal": "completed",
    "signal-refused": "rolled_back",
    "rejected": "rolled_back",
    "timed-out": "rolled_back",
    "failed-step-rolled-back": "rolled_back",
    "failed-postcheck": "rolled_back",
    "cancelled": "rolled_back",
    "hil-every-step": "completed",
    "restart-systemd-service": "failed",
    "clear-disk-space": "rolled_back",
    "disable-feature-flag": "completed",
}


async def test_every_session_scenario_ends_as_its_branch_implies_and_replays(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    sessions = await record_sessions(time_skipping_env, tmp_path)

    assert {name: session.final.status for name, session in sessions.items()} == OUTCOMES
    assert [name for name, session in sessions.items() if session.final.cancelled] == ["cancelled"]
    for name, session in sessions.items():
        expected = "CANCELED" if name == "cancelled" else "COMPLETED"
        assert (await session.handle.describe()).status == WorkflowExecutionStatus[expected], name
    for session in sessions.values():
        await replays(session.handle)
