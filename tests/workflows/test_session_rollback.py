"""The saga: compensations registered before their step runs, undone in reverse order."""

from __future__ import annotations

from store.enums import EventType, IncidentStatus
from tests.workflows.sessions import SessionRig, replays, rollback_view, step_statuses
from workflows.names import SA_PENDING_STEP, SA_SESSION_STATUS

FOUR_STEPS = """
runbook:
  id: four-steps
  name: Four steps
  consts: {log: "@LOG@"}
  steps:
    - name: s1
      run: echo s1 >> {{ consts.log }}
      connector: local
      rollback: echo undo s1 >> {{ consts.log }}
    - name: s2
      run: echo s2 >> {{ consts.log }}
      connector: local
      rollback: echo undo s2 >> {{ consts.log }}
    - name: s3
      run: echo s3 >> {{ consts.log }}; echo broken >&2; exit 3
      connector: local
    - name: s4
      run: echo s4 >> {{ consts.log }}
      connector: local
      rollback: echo undo s4 >> {{ consts.log }}
"""


async def test_a_failing_step_undoes_the_earlier_steps_in_reverse_order(ts_rig: SessionRig) -> None:
    incident = await ts_rig.incident()
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(FOUR_STEPS), incident=incident, mode="auto", confidence=0.9
        )
        final = await handle.result()

    assert ts_rig.lines() == ["s1", "s2", "s3", "undo s2", "undo s1"]
    assert final.status == "rolled_back"
    assert step_statuses(final) == {
        "s1": "succeeded",
        "s2": "succeeded",
        "s3": "failed",
        "s4": "pending",
    }
    s3 = final.step("s3")
    assert s3 is not None and s3.exit_code == 3
    assert s3.error is not None and "exit code 3, expected 0 (broken)" in s3.error
    assert "broken" in s3.output_tail
    # s3 ran and has no rollback: the state says it was left as it is.
    assert rollback_view(final) == [("s2", "undone"), ("s1", "undone"), ("s3", "no_rollback")]
    assert final.error is not None and "step 's3' failed" in final.error
    assert final.outcome is not None and final.outcome.result == "escalated"
    assert "Undone: s2, s1" in final.outcome.summary

    events = await ts_rig.events(incident["id"])
    (action,) = [e for e in events if e.type == EventType.PLAYBOOK_ACTION_EXECUTED]
    assert action.payload["result"] == "escalated"
    assert action.payload["details"]["status"] == "rolled_back"
    assert [r["step"] for r in action.payload["details"]["rollbacks"]] == ["s2", "s1", "s3"]
    assert not [e for e in events if e.type == EventType.STATUS_CHANGED]
    assert (await ts_rig.snapshot(incident["id"])).status == IncidentStatus.OPEN
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(SA_SESSION_STATUS) == "rolled_back"
    assert attributes.get(SA_PENDING_STEP) == ""


TIMES_OUT = """
runbook:
  id: times-out
  name: Times out
  consts: {log: "@LOG@"}
  steps:
    - name: s1
      run: echo s1 >> {{ consts.log }}
      connector: local
      rollback: echo undo s1 >> {{ consts.log }}
    - name: slow
      run: echo slow >> {{ consts.log }}; sleep 30
      connector: local
      timeout: 1s
      rollback: echo undo slow >> {{ consts.log }}
"""


async def test_a_step_that_timed_out_is_undone_too(ts_rig: SessionRig) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(TIMES_OUT), mode="auto", confidence=0.9)
        final = await handle.result()

    # Its rollback was registered before it ran: a half-done step is undone as well.
    assert ts_rig.lines() == ["s1", "slow", "undo slow", "undo s1"]
    assert final.status == "rolled_back"
    slow = final.step("slow")
    assert slow is not None and slow.error is not None and "timed out" in slow.error
    assert rollback_view(final) == [("slow", "undone"), ("s1", "undone")]


FAILING_ROLLBACK = """
runbook:
  id: failing-rollback
  name: Failing rollback
  consts: {log: "@LOG@"}
  steps:
    - name: s1
      run: echo s1 >> {{ consts.log }}
      connector: local
      rollback: echo undo s1 >> {{ consts.log }}
    - name: s2
      run: echo s2 >> {{ consts.log }}
      connector: local
      rollback:
        run: echo try undo s2 >> {{ consts.log }}; exit 1
        retry: {maximum_attempts: 2, initial_interval: 1s}
    - name: s3
      run: echo s3 >> {{ consts.log }}
      connector: local
      rollback: echo undo s3 >> {{ consts.log }}
    - name: s4
      run: exit 7
      connector: local
"""


async def test_a_failing_compensation_is_recorded_and_the_others_still_run(
    ts_rig: SessionRig,
) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(FAILING_ROLLBACK), mode="auto", confidence=0.9)
        final = await handle.result()

    assert ts_rig.lines() == [
        "s1",
        "s2",
        "s3",
        "undo s3",
        "try undo s2",  # its own retries: two attempts
        "try undo s2",
        "undo s1",
    ]
    assert final.status == "rollback_failed"
    assert rollback_view(final) == [
        ("s3", "undone"),
        ("s2", "failed"),
        ("s1", "undone"),
        ("s4", "no_rollback"),
    ]
    failed = final.rollbacks[1]
    assert failed.error is not None and "exit code 1" in failed.error
    assert failed.attempts == 2
    assert final.outcome is not None and "Rollback FAILED for: s2" in final.outcome.summary
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(SA_SESSION_STATUS) == "rollback_failed"
    await replays(handle)


FAILING_PRECHECK = """
runbook:
  id: failing-precheck
  name: Failing precheck
  consts: {log: "@LOG@"}
  prechecks:
    - {name: ok, run: "echo check ok >> {{ consts.log }}", connector: local, idempotent: true}
    - name: unit
      run: echo check unit >> {{ consts.log }}; exit 4
      connector: local
      expect: {exit_code: [0, 3]}
    - {name: never, run: "echo check never >> {{ consts.log }}", connector: local}
  steps:
    - name: s1
      run: echo s1 >> {{ consts.log }}
      connector: local
      rollback: echo undo s1 >> {{ consts.log }}
"""


async def test_a_failing_precheck_ends_the_session_with_nothing_changed(ts_rig: SessionRig) -> None:
    incident = await ts_rig.incident()
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(FAILING_PRECHECK), incident=incident, mode="auto", confidence=0.9
        )
        final = await handle.result()

    assert ts_rig.lines() == ["check ok", "check unit"]
    assert final.status == "failed"
    assert step_statuses(final) == {
        "ok": "succeeded",
        "unit": "failed",
        "never": "pending",
        "s1": "pending",
    }
    unit = final.step("unit")
    assert unit is not None and unit.error == "exit code 4, expected 0 or 3"
    assert final.rollbacks == []
    assert final.outcome is not None and final.outcome.result == "escalated"
    events = await ts_rig.events(incident["id"])
    (action,) = [e for e in events if e.type == EventType.PLAYBOOK_ACTION_EXECUTED]
    assert action.payload["details"]["status"] == "failed"
