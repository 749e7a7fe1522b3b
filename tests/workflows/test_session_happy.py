"""A session that runs to the end: approval through the Update, verification, and the
outcome on the incident (real SQLite)."""

from __future__ import annotations

from datetime import timedelta

from store.enums import EventType, IncidentStatus
from tests.workflows.sessions import (
    ORG,
    SessionRig,
    replays,
    rollback_view,
    step_statuses,
    wait_for,
    waiting_for,
)
from workflows.names import SA_INCIDENT, SA_ORG, SA_PENDING_STEP, SA_SESSION_STATUS, SA_WORKFLOW
from workflows.session import RunbookSession
from workflows.session_models import ApprovalDecision

RUNBOOK = """
runbook:
  id: fix-payment
  name: Fix payment
  consts: {log: "@LOG@"}
  approval: {roles: [SRE_LEAD], timeout: 15m}
  prechecks:
    - {name: disk, run: "echo precheck >> {{ consts.log }}", connector: local, idempotent: true}
  steps:
    - name: restart
      run: echo restart {{ incident.service }} >> {{ consts.log }}
      connector: local
      rollback: echo undo restart >> {{ consts.log }}
  postchecks:
    - name: health
      run: cat {{ consts.log }}
      connector: local
      expect: {stdout_contains: restart payment}
      idempotent: true
"""


async def test_an_approved_session_runs_every_phase_and_resolves_the_incident(
    ts_rig: SessionRig,
) -> None:
    incident = await ts_rig.incident()
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(RUNBOOK), incident=incident, confidence=0.9)
        waiting = await waiting_for(handle, "restart")

        assert ts_rig.lines() == ["precheck"]  # nothing changed before the approval
        assert waiting.status == "waiting_approval"
        assert waiting.pending is not None and waiting.pending.roles == ["SRE_LEAD"]
        assert waiting.pending.deadline - waiting.pending.requested_at == timedelta(minutes=15)
        attributes = (await handle.describe()).typed_search_attributes
        assert attributes.get(SA_SESSION_STATUS) == "waiting_approval"
        assert attributes.get(SA_PENDING_STEP) == "restart"
        assert attributes.get(SA_ORG) == ORG
        assert attributes.get(SA_INCIDENT) == incident["id"]
        assert attributes.get(SA_WORKFLOW) == "fix-payment"

        decision = ApprovalDecision(
            step="restart", approve=True, approver="bob", approver_roles=["SRE_LEAD"], note="go"
        )
        accepted = await handle.execute_update(RunbookSession.decide, decision)
        assert (accepted.step, accepted.approved, accepted.approver) == ("restart", True, "bob")
        final = await handle.result()

    assert ts_rig.lines() == ["precheck", "restart payment"]
    assert final.status == "completed"
    assert final.phase == "done"
    assert set(step_statuses(final).values()) == {"succeeded"}
    restart = final.step("restart")
    assert restart is not None
    assert (restart.approved_by, restart.approval_note, restart.exit_code) == ("bob", "go", 0)
    health = final.step("health")
    assert health is not None and "restart payment" in health.output_tail
    assert final.rollbacks == [] and final.pending is None and final.refusals == []
    assert final.outcome is not None
    assert (final.outcome.result, final.outcome.confidence) == ("resolved", 0.9)
    assert final.outcome.recorded

    events = await ts_rig.events(incident["id"])
    action = next(e for e in events if e.type == EventType.PLAYBOOK_ACTION_EXECUTED)
    assert action.payload["action"] == "runbook:fix-payment"
    assert action.payload["result"] == "resolved"
    assert action.payload["details"]["session_id"] == final.session_id
    assert action.payload["details"]["status"] == "completed"
    assert action.actor == f"session:{final.session_id}"
    changed = [e for e in events if e.type == EventType.STATUS_CHANGED]
    assert [(e.payload["from"], e.payload["to"]) for e in changed] == [("OPEN", "RESOLVED")]
    assert (await ts_rig.snapshot(incident["id"])).status == IncidentStatus.RESOLVED

    (notice,) = await ts_rig.notices()
    assert "restart" in notice.message and "SRE_LEAD" in notice.message
    assert notice.incident_id == incident["id"] and notice.source == final.session_id

    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(SA_SESSION_STATUS) == "completed"
    assert attributes.get(SA_PENDING_STEP) == ""
    assert rollback_view(final) == []
    await replays(handle)


NO_POSTCHECKS = """
runbook:
  id: quick-fix
  name: Quick fix
  consts: {log: "@LOG@"}
  steps:
    - {name: one, run: "echo one >> {{ consts.log }}", connector: local}
    - {name: two, run: "echo two >> {{ consts.log }}", connector: local}
"""


async def test_auto_mode_above_the_threshold_runs_without_asking(ts_rig: SessionRig) -> None:
    incident = await ts_rig.incident()
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(NO_POSTCHECKS), incident=incident, mode="auto", confidence=0.95
        )
        final = await handle.result()

    assert ts_rig.lines() == ["one", "two"]
    assert final.status == "completed" and not final.approve_every_step
    assert all(step.approved_by is None for step in final.steps)
    # Without postchecks nothing proves the fix: it stays in progress, the incident open.
    assert final.outcome is not None and final.outcome.result == "in_progress"
    assert final.outcome.confidence < 0.8
    assert (await ts_rig.snapshot(incident["id"])).status == IncidentStatus.OPEN
    assert await ts_rig.notices() == []


async def test_auto_mode_below_the_threshold_asks_for_every_step(ts_rig: SessionRig) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(NO_POSTCHECKS), mode="auto", confidence=0.5)
        waiting = await waiting_for(handle, "one")
        assert waiting.approve_every_step
        assert ts_rig.lines() == []
        await handle.execute_update(
            RunbookSession.decide,
            ApprovalDecision(step="one", approve=True, approver="bob", approver_roles=["SRE_LEAD"]),
        )
        await waiting_for(handle, "two")
        assert ts_rig.lines() == ["one"]
        await handle.execute_update(
            RunbookSession.decide,
            ApprovalDecision(
                step="two", approve=True, approver="carol", approver_roles=["ORG_ADMIN"]
            ),
        )
        final = await wait_for(handle, lambda s: s.status == "completed")

    assert ts_rig.lines() == ["one", "two"]
    assert [s.approved_by for s in final.steps] == ["bob", "carol"]
