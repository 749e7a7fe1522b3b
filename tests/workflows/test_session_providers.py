"""Provider steps and provider rollbacks reuse the workflow provider activities; inputs
fill the render context."""

from __future__ import annotations

from tests.workflows.sessions import SessionRig, rollback_view, step_statuses

PROVIDERS = """
runbook:
  id: with-providers
  name: With providers
  consts: {log: "@LOG@"}
  inputs:
    - {name: service, type: string, default: checkout}
  steps:
    - name: announce
      provider:
        type: notify
        with: {message: "restarting {{ inputs.service }} for {{ incident.title }}"}
      rollback:
        provider: {type: notify, with: {message: "restart of {{ inputs.service }} undone"}}
    - name: note
      run: echo note {{ steps.announce.results.notification_id }} >> {{ consts.log }}
      connector: local
    - name: fail
      run: exit 1
      connector: local
"""


async def test_provider_steps_run_and_roll_back_through_the_provider_activities(
    ts_rig: SessionRig,
) -> None:
    incident = await ts_rig.incident(title="Checkout 5xx")
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(PROVIDERS), incident=incident, mode="auto", confidence=0.9
        )
        final = await handle.result()

    first, undone = await ts_rig.notices()
    assert first.message == "restarting checkout for Checkout 5xx"
    assert undone.message == "restart of checkout undone"
    assert first.incident_id == incident["id"] and first.source == final.session_id
    assert ts_rig.lines() == [f"note {first.id}"]
    assert step_statuses(final) == {"announce": "succeeded", "note": "succeeded", "fail": "failed"}
    assert rollback_view(final) == [
        ("announce", "undone"),
        ("fail", "no_rollback"),
        ("note", "no_rollback"),
    ]


REQUIRED_INPUT = """
runbook:
  id: required-input
  name: Required input
  consts: {log: "@LOG@"}
  inputs:
    - {name: host, type: string, required: true}
  steps:
    - {name: s1, run: "echo {{ inputs.host }} >> {{ consts.log }}", connector: local}
"""


async def test_a_missing_required_input_fails_before_anything_runs(ts_rig: SessionRig) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(REQUIRED_INPUT), mode="auto", confidence=0.9)
        final = await handle.result()
        given = await ts_rig.start(
            ts_rig.runbook(REQUIRED_INPUT), mode="auto", confidence=0.9, inputs={"host": "db1"}
        )
        completed = await given.result()

    assert final.status == "failed"
    assert final.error == "required input(s) not given: host"
    assert step_statuses(final) == {"s1": "pending"}
    assert completed.status == "completed"
    assert ts_rig.lines() == ["db1"]
