"""The runbook session: prechecks -> steps -> postchecks -> verification, one workflow.

- Approvals wait durably (`session_approvals`). A decision arrives through the `decide`
  Update (validated, so the caller is refused at once) or the `approve` / `reject`
  Signals (a refused signal is kept in `state.refusals`). An unanswered request escalates
  (or is rejected) on timeout.
- Every step with a rollback pushes its compensation BEFORE it runs. On a failed step or
  postcheck, a rejection, an approval timeout or a cancel request, the compensations run
  in reverse order (`session_rollback`).
- Cancelling the workflow rolls back, records the outcome, then ends the run as
  Cancelled (the search attribute and the `state` query say rolled_back). Terminating
  it skips everything: nothing is undone.
- Commands are rendered here with `dsl.shell.render_command`: every interpolated value is
  shell-quoted. The activities only run what they are given.

The code is pure (no I/O, settings or database): activities, called through
`session_calls`, do the rest; `session_report` puts the session into words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dsl.plan import ProviderPlan, RetryPlan
    from dsl.runbook_plan import RunbookStepPlan
    from workflows.names import (
        APPROVE_SIGNAL,
        DECIDE_UPDATE,
        REJECT_SIGNAL,
        SA_PENDING_STEP,
        SA_SESSION_STATUS,
        SESSION_WORKFLOW,
        STATE_QUERY,
    )
    from workflows.render_context import incident_view
    from workflows.session_approvals import ApprovalWait, Decisions
    from workflows.session_calls import (
        StepFailed,
        call_provider,
        record_outcome,
        rendered_command,
        rendered_params,
        resolve_connector,
        run_command,
        tell_triage,
    )
    from workflows.session_checks import failed_confidence, verify
    from workflows.session_models import (
        ApprovalDecision,
        CommandRequest,
        DecisionResult,
        OutcomeResult,
        SessionInput,
        SessionOutcome,
        SessionState,
        SessionStatus,
        SignalDecision,
        StepState,
    )
    from workflows.session_report import details, identity_attributes, outcome_record, summary
    from workflows.session_rollback import Rollbacks
    from workflows.session_ticket import ticket_update

T = TypeVar("T")


class _Stop(Exception):
    """The session cannot go on: a step failed, or an approval was refused."""


@workflow.defn(name=SESSION_WORKFLOW)
class RunbookSession:
    @workflow.init
    def __init__(self, request: SessionInput) -> None:
        self._input = request
        self._plan = request.plan
        self._incident = incident_view(request.incident)
        self._inputs = dict(request.inputs)
        self._results: dict[str, dict[str, Any]] = {}
        self._cancel_arrived = False  # a cancel request arrived during clean-up
        self._published: tuple[str, str] | None = None
        self._state = SessionState(
            session_id=request.session_id,
            org_id=request.org_id,
            incident_id=self._incident.get("id"),
            runbook_id=self._plan.id,
            plan_hash=self._plan.plan_hash,
            requester=request.requester,
            mode=request.mode,
            approve_every_step=(
                request.mode == "hil" or request.confidence < request.auto_threshold
            ),
            target=request.target,
            confidence=request.confidence,
            steps=[StepState(name=s.name, phase=s.phase) for s in self._plan.all_steps()],
            started_at=workflow.now(),
        )
        self._rollbacks = Rollbacks(request, self._state.incident_id)
        self._decisions = Decisions(self._state)
        self._approvals = ApprovalWait(request, self._state, self._decisions, self._publish)

    # --- the surface the API calls ------------------------------------------------------

    @workflow.run
    async def run(self, request: SessionInput) -> SessionState:
        workflow.upsert_search_attributes(identity_attributes(self._input, self._incident))
        self._publish()
        try:
            await self._run_phases()
        except asyncio.CancelledError:
            self._state.cancelled = True
            await self._stop("the session was cancelled")
        await tell_triage(self._input.analysis_id, self._state)
        if self._cancel_arrived and self._state.status != "completed":
            # It came while clean-up ran: that finished first. (A session that completed
            # has nothing to undo; the request is then ignored.)
            self._state.cancelled = True
        if self._state.cancelled:
            raise asyncio.CancelledError("runbook session cancelled; its changes were rolled back")
        return self._state

    @workflow.query(name=STATE_QUERY)
    def state(self) -> SessionState:
        return self._state

    @workflow.update(name=DECIDE_UPDATE)
    def decide(self, decision: ApprovalDecision) -> DecisionResult:
        # Checked again: two decisions validated in one activation see the same state.
        self._decisions.raise_if_refused(decision)
        return self._decisions.apply(
            decision.step, decision.approve, decision.approver, decision.note
        )

    @decide.validator
    def validate_decide(self, decision: ApprovalDecision) -> None:
        self._decisions.raise_if_refused(decision)

    @workflow.signal(name=APPROVE_SIGNAL)
    def approve(self, decision: SignalDecision) -> None:
        self._decisions.take_signal(decision, approve=True)

    @workflow.signal(name=REJECT_SIGNAL)
    def reject(self, decision: SignalDecision) -> None:
        self._decisions.take_signal(decision, approve=False)

    # --- phases -------------------------------------------------------------------------

    async def _run_phases(self) -> None:
        try:
            self._fill_inputs()
            for step in self._plan.all_steps():
                await self._run_step(step)
        except _Stop as stop:
            await self._stop(str(stop))
            return
        await self._complete()

    def _fill_inputs(self) -> None:
        for declared in self._plan.inputs:
            if declared.name not in self._inputs and declared.default is not None:
                self._inputs[declared.name] = declared.default
        missing = [
            i.name for i in self._plan.inputs if i.required and self._inputs.get(i.name) is None
        ]
        if missing:
            raise _Stop(f"required input(s) not given: {', '.join(missing)}")

    async def _run_step(self, step: RunbookStepPlan) -> None:
        state = self._step_state(step.name)
        self._state.phase = step.phase
        if self._needs_approval(step):
            await self._await_approval(step, state)
        state.status = "running"
        state.started_at = workflow.now()
        self._publish()
        try:
            if step.run is not None:
                result = await self._run_command(step, state)
            else:
                result = await self._run_provider(step, state)
        except StepFailed as failed:
            state.status = "failed"
            state.error = str(failed)
            state.finished_at = workflow.now()
            raise _Stop(f"{step.phase} '{step.name}' failed: {failed}") from None
        except (asyncio.CancelledError, _Stop):
            raise
        except Exception as err:  # a bug here would otherwise retry the workflow task forever
            state.status = "failed"
            state.error = f"unexpected {type(err).__name__}: {err}"
            state.finished_at = workflow.now()
            raise _Stop(f"{step.phase} '{step.name}' failed: {state.error}") from None
        state.status = "succeeded"
        state.finished_at = workflow.now()
        self._results[step.name] = result

    def _needs_approval(self, step: RunbookStepPlan) -> bool:
        """Only steps ask (checks change nothing); all of them unless auto mode applies."""
        return step.phase == "step" and (step.requires_approval or self._state.approve_every_step)

    # --- commands and provider calls ----------------------------------------------------

    async def _run_command(self, step: RunbookStepPlan, state: StepState) -> dict[str, Any]:
        assert step.run is not None
        values = self._values()
        command = rendered_command(step.run, values, f"{step.name}.run")
        target = self._input.target.connection
        connector = resolve_connector(step.connector, step.name, target)
        self._rollbacks.register(step, values)
        request = CommandRequest(
            session_id=self._input.session_id,
            org_id=self._input.org_id,
            step=step.name,
            command=command,
            connector=connector,
            connection=target,
            timeout_seconds=step.timeout_seconds,
            output_limit=step.output_limit,
            idempotent=step.idempotent,
            maximum_attempts=step.retry.maximum_attempts,
            expect=step.expect,
        )
        outcome = await run_command(request, step.retry, state, f"{step.phase} {step.name}")
        return {"stdout": outcome.stdout, "stderr": outcome.stderr, "exit_code": outcome.exit_code}

    async def _run_provider(self, step: RunbookStepPlan, state: StepState) -> dict[str, Any]:
        assert step.provider is not None
        values = self._values()
        params = rendered_params(step.provider, values, step.name)
        self._rollbacks.register(step, values)
        state.attempts = 1
        results = await call_provider(
            self._input,
            self._state.incident_id,
            step.provider,
            params,
            name=step.name,
            retry=step.retry,
            timeout_seconds=step.timeout_seconds,
        )
        return {"results": results}

    def _values(self) -> dict[str, Any]:
        target = self._input.target
        return {
            "incident": self._incident,
            "steps": self._results,
            "target": {"connection": target.connection, "host": target.host},
            "inputs": self._inputs,
            "consts": dict(self._plan.consts),
            "now": workflow.now(),
        }

    # --- approvals ----------------------------------------------------------------------

    async def _await_approval(self, step: RunbookStepPlan, state: StepState) -> None:
        decision, note = await self._approvals.decision(step.name, self._what_runs(step))
        state.approved_by = decision.approver
        state.approval_note = note
        if not decision.approved:
            state.status = "rejected"
            state.finished_at = workflow.now()
            self._publish()
            raise _Stop(f"step '{step.name}' was rejected by {decision.approver}")

    def _what_runs(self, step: RunbookStepPlan) -> str:
        """The command as it will run (earlier steps are done, so it renders the same),
        or the provider it calls; a template that cannot render says why."""
        if step.run is None:
            assert step.provider is not None
            return f"provider {step.provider.type}"
        try:
            return rendered_command(step.run, self._values(), f"{step.name}.run")
        except StepFailed as failed:
            return str(failed)

    # --- the end: verification, rollback, recording -------------------------------------

    async def _complete(self) -> None:
        self._state.phase = "verification"
        result, confidence = verify(
            self._state.steps, self._input.confidence, bool(self._plan.postchecks)
        )
        await self._finish("completed", result, confidence, None)

    async def _stop(self, reason: str) -> None:
        """Undo what ran (when anything may have changed), then record the outcome."""
        self._mark_interrupted(reason)
        self._state.error = reason
        if self._state.phase in ("starting", "precheck"):  # nothing changed yet
            status: SessionStatus = "failed"
        else:
            status = await self._shielded(self._roll_back())
        confidence = failed_confidence(self._state.steps, self._input.confidence)
        await self._finish(status, "escalated", confidence, reason)

    def _mark_interrupted(self, reason: str) -> None:
        """A step that was running or waiting when the session stopped."""
        for state in self._state.steps:
            if state.status in ("running", "waiting_approval"):
                state.status = "failed" if state.status == "running" else "rejected"
                state.error = state.error or reason
                state.finished_at = workflow.now()
        self._state.pending = None

    async def _roll_back(self) -> SessionStatus:
        self._state.status = "rolling_back"
        self._publish()
        return await self._rollbacks.undo_all(self._state.rollbacks, self._publish)

    async def _finish(
        self,
        status: SessionStatus,
        result: OutcomeResult,
        confidence: float,
        reason: str | None,
    ) -> None:
        self._state.phase = "done"
        self._state.status = status
        self._state.finished_at = workflow.now()
        outcome = SessionOutcome(
            result=result,
            confidence=confidence,
            summary=summary(self._plan.name, self._state, status, result, confidence, reason),
            ticket=self._input.ticket,
        )
        self._state.outcome = outcome
        self._publish()
        await self._shielded(self._record(outcome))
        if self._input.ticket:
            await self._shielded(self._update_ticket(outcome))

    async def _record(self, outcome: SessionOutcome) -> None:
        incident_id = self._state.incident_id
        if incident_id is None:
            return
        record = outcome_record(self._input, self._state, outcome, incident_id)
        outcome.recorded = await record_outcome(record)

    async def _update_ticket(self, outcome: SessionOutcome) -> None:
        params = ticket_update(self._input, outcome, self._state.incident_id)
        provider = ProviderPlan(
            type=self._input.ticket_system, connection=self._input.ticket_connection
        )
        try:
            await call_provider(
                self._input,
                self._state.incident_id,
                provider,
                params,
                name="ticket-update",
                retry=RetryPlan(maximum_attempts=3),
                timeout_seconds=60.0,
            )
        except StepFailed as failed:
            outcome.ticket_error = str(failed)

    async def _shielded(self, work: Awaitable[T]) -> T:
        """Run clean-up to the end even if a cancel request arrives meanwhile; the
        request then ends the run as Cancelled once everything is done."""
        task = asyncio.ensure_future(work)
        while True:
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.cancelled():
                    raise
                self._cancel_arrived = True

    # --- search attributes, details -----------------------------------------------------

    def _publish(self) -> None:
        """Upsert FirelineSessionStatus / FirelinePendingStep when they changed, and the
        current-details line the Temporal UI shows."""
        pending = self._state.pending
        current = (self._state.status, pending.step if pending else "")
        if current != self._published:
            workflow.upsert_search_attributes(
                [SA_SESSION_STATUS.value_set(current[0]), SA_PENDING_STEP.value_set(current[1])]
            )
            self._published = current
        workflow.set_current_details(
            details(self._state, self._plan.approval, self._rollbacks.undoing)
        )

    def _step_state(self, name: str) -> StepState:
        state = self._state.step(name)
        assert state is not None, name
        return state
