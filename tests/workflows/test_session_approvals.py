"""Approvals: the `decide` Update and its validator, the Signals, timeouts and escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from tests.platform.harness import eventually
from tests.workflows.sessions import (
    REQUESTER,
    SessionHandle,
    SessionRig,
    idle,
    replays,
    rollback_view,
    state_of,
    step_statuses,
    wait_for,
    waiting_for,
)
from workflows.names import SA_PENDING_STEP, SA_SESSION_STATUS
from workflows.session import RunbookSession
from workflows.session_approvals import TIMEOUT_APPROVER
from workflows.session_models import (
    ALREADY_DECIDED,
    DECISION_ERRORS,
    NOT_PENDING,
    ROLE_MISSING,
    SELF_APPROVAL,
    SESSION_OVER,
    ApprovalDecision,
    SignalDecision,
)

WORKFLOW_TASK_EVENTS = {
    "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED",
    "EVENT_TYPE_WORKFLOW_TASK_STARTED",
    "EVENT_TYPE_WORKFLOW_TASK_COMPLETED",
}

TWO_STEPS = """
runbook:
  id: two-steps
  name: Two steps
  consts: {log: "@LOG@"}
  approval:
    roles: [SRE_LEAD, ONCALL_ENGINEER]
    timeout: 4h
    on_timeout: escalate
    escalate_to: [ORG_ADMIN]
    escalation_timeout: 1h
  steps:
    - name: s1
      run: echo s1 >> {{ consts.log }}
      connector: local
      rollback: echo undo s1 >> {{ consts.log }}
    - name: s2
      run: echo s2 >> {{ consts.log }}
      connector: local
      requires_approval: true
      rollback: echo undo s2 >> {{ consts.log }}
"""


def decision(
    step: str, approve: bool = True, approver: str = "bob", *roles: str
) -> ApprovalDecision:
    return ApprovalDecision(
        step=step, approve=approve, approver=approver, approver_roles=list(roles or ["SRE_LEAD"])
    )


async def refused(handle: SessionHandle, request: ApprovalDecision) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(RunbookSession.decide, request)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_a_rejected_step_never_runs_and_the_earlier_ones_are_undone(
    ts_rig: SessionRig,
) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(TWO_STEPS))  # hil: every step asks
        await waiting_for(handle, "s1")
        await handle.execute_update(RunbookSession.decide, decision("s1"))
        await waiting_for(handle, "s2")
        rejected = await handle.execute_update(
            RunbookSession.decide,
            ApprovalDecision(
                step="s2",
                approve=False,
                approver="carol",
                approver_roles=["ONCALL_ENGINEER"],
                note="not during the sale",
            ),
        )
        assert not rejected.approved
        final = await handle.result()

    assert ts_rig.lines() == ["s1", "undo s1"]
    assert final.status == "rolled_back"
    assert step_statuses(final) == {"s1": "succeeded", "s2": "rejected"}
    s2 = final.step("s2")
    assert s2 is not None
    assert (s2.approved_by, s2.approval_note) == ("carol", "not during the sale")
    assert rollback_view(final) == [("s1", "undone")]
    assert final.error == "step 's2' was rejected by carol"


async def test_an_unanswered_approval_escalates_then_is_rejected_and_rolled_back(
    ts_rig: SessionRig,
) -> None:
    incident = await ts_rig.incident()
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(TWO_STEPS), incident=incident, mode="auto", confidence=0.9
        )
        final = await handle.result()  # 4h, then 1h more, skipped by the test server

    assert ts_rig.lines() == ["s1", "undo s1"]
    assert final.status == "rolled_back"
    s2 = final.step("s2")
    assert s2 is not None and s2.status == "rejected" and s2.approved_by == TIMEOUT_APPROVER
    assert rollback_view(final) == [("s1", "undone")]
    requested, escalated = await ts_rig.notices()
    assert "SRE_LEAD or ONCALL_ENGINEER" in requested.message
    assert escalated.title == "Runbook approval escalated"
    assert "escalated to SRE_LEAD or ONCALL_ENGINEER or ORG_ADMIN" in escalated.message
    assert escalated.severity == "warning" and escalated.incident_id == incident["id"]
    await replays(handle)


async def test_an_escalated_approval_may_be_given_by_the_escalation_role(
    ts_rig: SessionRig,
) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(TWO_STEPS), mode="auto", confidence=0.9)
        first = await waiting_for(handle, "s2")
        assert first.pending is not None and not first.pending.escalated
        assert (await refused(handle, decision("s2", True, "dave", "ORG_ADMIN"))).type == (
            ROLE_MISSING
        )
        await ts_rig.env.sleep(timedelta(hours=4, minutes=1))
        escalated = await wait_for(handle, lambda s: s.pending is not None and s.pending.escalated)
        assert escalated.pending is not None
        assert escalated.pending.roles == ["SRE_LEAD", "ONCALL_ENGINEER", "ORG_ADMIN"]
        assert escalated.pending.requested_at == first.pending.requested_at
        assert escalated.pending.deadline - first.pending.deadline >= timedelta(hours=1)
        by_admin = decision("s2", True, "dave", "ORG_ADMIN")
        await handle.execute_update(RunbookSession.decide, by_admin)
        final = await handle.result()

    assert ts_rig.lines() == ["s1", "s2"]
    assert final.status == "completed"


REJECT_ON_TIMEOUT = """
runbook:
  id: reject-on-timeout
  name: Reject on timeout
  consts: {log: "@LOG@"}
  approval: {roles: [SRE_LEAD], timeout: 30m, on_timeout: reject}
  steps:
    - name: s1
      run: echo s1 >> {{ consts.log }}
      connector: local
      requires_approval: true
"""


async def test_on_timeout_reject_rejects_without_escalating(ts_rig: SessionRig) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(REJECT_ON_TIMEOUT), mode="auto", confidence=0.9)
        final = await handle.result()

    assert ts_rig.lines() == []
    assert final.status == "rolled_back" and final.rollbacks == []
    assert step_statuses(final) == {"s1": "rejected"}
    assert [n.title for n in await ts_rig.notices()] == ["Runbook step waits for approval"]


async def test_the_update_validator_refuses_bad_decisions_and_changes_nothing(
    ts_rig: SessionRig,
) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(TWO_STEPS))
        await waiting_for(handle, "s1")
        await handle.execute_update(RunbookSession.decide, decision("s1"))
        before = await waiting_for(handle, "s2")
        # The approval notice is sent after `pending` shows: wait until the session idles.
        await eventually(lambda: idle(handle))
        seen = len([e async for e in handle.fetch_history_events()])

        wrong_role = await refused(handle, decision("s2", True, "eve", "VIEWER", "ANALYST"))
        own = await refused(handle, decision("s2", True, REQUESTER, "SRE_LEAD"))
        unknown = await refused(handle, decision("nope"))
        not_yet = await refused(handle, decision("s3"))
        again = await refused(handle, decision("s1", False))

        assert (wrong_role.type, DECISION_ERRORS[wrong_role.type]) == (ROLE_MISSING, 403)
        assert "needs one of the roles SRE_LEAD, ONCALL_ENGINEER" in wrong_role.message
        assert "eve has VIEWER, ANALYST" in wrong_role.message
        assert (own.type, DECISION_ERRORS[own.type]) == (SELF_APPROVAL, 403)
        assert (unknown.type, DECISION_ERRORS[unknown.type]) == (NOT_PENDING, 404)
        assert "step 's2' is waiting" in unknown.message
        assert not_yet.type == NOT_PENDING
        assert (again.type, DECISION_ERRORS[again.type]) == (ALREADY_DECIDED, 409)
        assert "already approved by bob" in again.message

        after = await state_of(handle)
        assert after == before
        # A refused Update is not accepted into history: only workflow tasks were added.
        added = [e async for e in handle.fetch_history_events()][seen:]
        assert {EventType.Name(e.event_type) for e in added} <= WORKFLOW_TASK_EVENTS
        attributes = (await handle.describe()).typed_search_attributes
        assert attributes.get(SA_SESSION_STATUS) == "waiting_approval"
        assert attributes.get(SA_PENDING_STEP) == "s2"
        assert ts_rig.lines() == ["s1"]
        await handle.terminate("test over")


async def test_a_refused_signal_is_recorded_and_a_valid_one_applies(ts_rig: SessionRig) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(TWO_STEPS))
        await waiting_for(handle, "s1")
        own = SignalDecision(step="s1", approver=REQUESTER, roles=["SRE_LEAD"])
        await handle.signal(RunbookSession.approve, own)
        await handle.signal(
            RunbookSession.reject, SignalDecision(step="s1", approver="mallory", roles=["VIEWER"])
        )
        refusals = await wait_for(handle, lambda s: len(s.refusals) == 2)
        assert refusals.pending is not None and refusals.pending.step == "s1"
        assert [(r.approver, r.approve, r.error) for r in refusals.refusals] == [
            (REQUESTER, True, SELF_APPROVAL),
            ("mallory", False, ROLE_MISSING),
        ]
        assert ts_rig.lines() == []

        await handle.signal(
            RunbookSession.approve,
            SignalDecision(step="s1", approver="bob", roles=["SRE_LEAD"], note="ok"),
        )
        await waiting_for(handle, "s2")
        await handle.signal(
            RunbookSession.reject, SignalDecision(step="s2", approver="bob", roles=["SRE_LEAD"])
        )
        final = await handle.result()

    assert ts_rig.lines() == ["s1", "undo s1"]
    s1 = final.step("s1")
    assert s1 is not None and (s1.approved_by, s1.approval_note) == ("bob", "ok")
    assert step_statuses(final) == {"s1": "succeeded", "s2": "rejected"}
    assert len(final.refusals) == 2


SLOW_ROLLBACK = """
runbook:
  id: slow-rollback
  name: Slow rollback
  consts: {log: "@LOG@", flag: "@DIR@/flag"}
  steps:
    - name: s1
      run: echo s1 >> {{ consts.log }}
      connector: local
      # Undoing waits until the test lets it finish.
      rollback: until [ -e {{ consts.flag }} ]; do sleep 0.1; done; echo undo s1 >> {{ consts.log }}
    - {name: s2, run: "echo s2 >> {{ consts.log }}", connector: local, requires_approval: true}
    - {name: s3, run: "echo s3 >> {{ consts.log }}", connector: local, requires_approval: true}
"""


async def test_decisions_while_rolling_back_are_refused_as_over(ts_rig: SessionRig) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(SLOW_ROLLBACK), mode="auto", confidence=0.9)
        await waiting_for(handle, "s2")
        await handle.execute_update(RunbookSession.decide, decision("s2", False))
        rolling = await wait_for(handle, lambda s: s.status == "rolling_back")

        over = await refused(handle, decision("s3"))
        assert (over.type, DECISION_ERRORS[over.type]) == (SESSION_OVER, 409)
        assert (await refused(handle, decision("s2"))).type == ALREADY_DECIDED
        late = SignalDecision(step="s3", approver="bob", roles=["SRE_LEAD"])
        await handle.signal(RunbookSession.approve, late)
        noted = await wait_for(handle, lambda s: len(s.refusals) == 1)
        assert noted.refusals[0].error == SESSION_OVER
        assert rolling.steps == noted.steps

        (ts_rig.dir / "flag").touch()
        final = await handle.result()

    assert ts_rig.lines() == ["s1", "undo s1"]
    assert final.status == "rolled_back"
    assert step_statuses(final) == {"s1": "succeeded", "s2": "rejected", "s3": "pending"}
