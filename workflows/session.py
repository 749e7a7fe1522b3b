"""The runbook session: prechecks -> steps -> postchecks -> verification, one workflow.

- Approvals wait durably. A decision arrives through the `decide` Update (validated, so
  the caller is refused at once) or the `approve` / `reject` Signals (a refused signal is
  kept in `state.refusals`). An unanswered request escalates (or is rejected) on timeout.
- Every step with a rollback pushes its compensation BEFORE it runs (a step that may have
  run half-way is undone too). On a failed step or postcheck, a rejection, an approval
  timeout or a cancel request, the compensations run in reverse order, each an activity
  with its own retries; a failing one is recorded and the others still run.
- Cancelling the workflow rolls back, records the outcome, then ends the run as
  Cancelled (the search attribute and the `state` query say rolled_back). Terminating
  it skips everything: nothing is undone.
- Commands are rendered here with `dsl.shell.render_command`: every interpolated value is
  shell-quoted. The activities only run what they are given.

The code is pure (no I/O, settings or database): activities do the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.exceptions import CancelledError as TemporalCancelledError

with workflow.unsafe.imports_passed_through():
    from dsl.jinja_env import TemplateError
    from dsl.plan import ProviderPlan, RetryPlan
    from dsl.runbook_plan import Connector, ExpectPlan, RollbackPlan, RunbookStepPlan
    from dsl.shell import render_command
    from dsl.templates import render_value
    from workflows.models import ProviderCallInput
    from workflows.names import (
        APPROVE_SIGNAL,
        DECIDE_UPDATE,
        NOTIFY_APPROVAL_ACTIVITY,
        RECORD_OUTCOME_ACTIVITY,
        REJECT_SIGNAL,
        RUN_COMMAND_ACTIVITY,
        RUN_ROLLBACK_ACTIVITY,
        SA_INCIDENT,
        SA_ORG,
        SA_PENDING_STEP,
        SA_PLAN_HASH,
        SA_SESSION_STATUS,
        SA_SEVERITY,
        SA_WORKFLOW,
        SESSION_FINISHED_SIGNAL,
        SESSION_WORKFLOW,
        STATE_QUERY,
        provider_activity,
    )
    from workflows.render_context import incident_view
    from workflows.session_checks import failed_confidence, tail, unmet_expectation, verify
    from workflows.session_models import (
        ALREADY_DECIDED,
        FINAL_STATUSES,
        NOT_PENDING,
        OTHER_ORG,
        ROLE_MISSING,
        SELF_APPROVAL,
        SESSION_OVER,
        ApprovalDecision,
        ApprovalNotice,
        CommandOutcome,
        CommandRequest,
        DecisionResult,
        NoticeKind,
        OutcomeRecord,
        OutcomeRecorded,
        OutcomeResult,
        PendingApproval,
        Refusal,
        RollbackResult,
        SessionInput,
        SessionOutcome,
        SessionState,
        SessionStatus,
        SignalDecision,
        StepState,
        StepSummary,
    )
    from workflows.session_ticket import ticket_update
    from workflows.triage_models import SessionFinished

T = TypeVar("T")

# The command activity heartbeats every couple of seconds; a worker that stops doing so
# for this long is taken for dead and the attempt is retried (and refused, unless the
# step is idempotent).
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
# On top of a command's own timeout: connecting, and stopping a command that overran.
COMMAND_MARGIN = timedelta(seconds=60)
BOOKKEEPING_TIMEOUT = timedelta(seconds=60)
BOOKKEEPING_RETRY = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(seconds=30))
OUTPUT_TAIL_CHARS = 4000
TIMEOUT_APPROVER = "fireline:approval-timeout"


class _StepFailed(Exception):
    """The current step failed; the message says why, for people."""


class _Stop(Exception):
    """The session cannot go on: a step failed, or an approval was refused."""


@dataclass(frozen=True)
class _Compensation:
    """A registered rollback, rendered when its step was about to run."""

    step: str
    plan: RollbackPlan
    command: str | None = None
    connector: Connector = "local"
    params: dict[str, Any] | None = None  # rendered provider parameters


@workflow.defn(name=SESSION_WORKFLOW)
class RunbookSession:
    @workflow.init
    def __init__(self, request: SessionInput) -> None:
        self._input = request
        self._plan = request.plan
        self._incident = incident_view(request.incident)
        self._inputs = dict(request.inputs)
        self._results: dict[str, dict[str, Any]] = {}
        self._decisions: dict[str, DecisionResult] = {}
        self._decision_notes: dict[str, str | None] = {}
        self._rolling_back: str | None = None  # the step being undone
        self._cancel_arrived = False  # a cancel request arrived during clean-up
        self._compensations: list[_Compensation] = []
        self._touched: list[str] = []  # steps that may have changed something, in order
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

    # --- the surface the API calls ------------------------------------------------------

    @workflow.run
    async def run(self, request: SessionInput) -> SessionState:
        self._publish_identity()
        self._publish()
        try:
            await self._run_phases()
        except asyncio.CancelledError:
            self._state.cancelled = True
            await self._stop("the session was cancelled")
        await self._tell_triage()
        if self._cancel_arrived and self._state.status != "completed":
            # It came while clean-up ran: that finished first. (A session that completed
            # has nothing to undo; the request is then ignored.)
            self._state.cancelled = True
        if self._state.cancelled:
            raise asyncio.CancelledError("runbook session cancelled; its changes were rolled back")
        return self._state

    async def _tell_triage(self) -> None:
        """The triage that started this session follows it to its end."""
        if self._input.analysis_id is None:
            return
        outcome = self._state.outcome
        finished = SessionFinished(
            session_id=self._state.session_id,
            status=self._state.status,
            result=outcome.result if outcome is not None else None,
        )
        triage = workflow.get_external_workflow_handle(self._input.analysis_id)
        try:
            await triage.signal(SESSION_FINISHED_SIGNAL, finished)
        except Exception:
            workflow.logger.info("triage %s no longer follows", self._input.analysis_id)

    @workflow.query(name=STATE_QUERY)
    def state(self) -> SessionState:
        return self._state

    @workflow.update(name=DECIDE_UPDATE)
    def decide(self, decision: ApprovalDecision) -> DecisionResult:
        # Checked again: two decisions validated in one activation see the same state.
        self._raise_if_refused_decision(decision)
        return self._apply_decision(
            decision.step, decision.approve, decision.approver, decision.note
        )

    @decide.validator
    def validate_decide(self, decision: ApprovalDecision) -> None:
        self._raise_if_refused_decision(decision)

    def _raise_if_refused_decision(self, decision: ApprovalDecision) -> None:
        """Another org's decision learns nothing, not even which refusal it would get."""
        if decision.org_id is not None and decision.org_id != self._input.org_id:
            raise ApplicationError("not this org's session", type=OTHER_ORG, non_retryable=True)
        self._raise_if_refused(decision.step, decision.approver, decision.approver_roles)

    @workflow.signal(name=APPROVE_SIGNAL)
    def approve(self, decision: SignalDecision) -> None:
        self._signalled(decision, approve=True)

    @workflow.signal(name=REJECT_SIGNAL)
    def reject(self, decision: SignalDecision) -> None:
        self._signalled(decision, approve=False)

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
        except _StepFailed as failed:
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
        command = _render_command(step.run, values, f"{step.name}.run")
        connector = self._connector(step.connector, step.name)
        self._register_rollback(step, values)
        request = CommandRequest(
            session_id=self._input.session_id,
            org_id=self._input.org_id,
            step=step.name,
            command=command,
            connector=connector,
            connection=self._input.target.connection,
            timeout_seconds=step.timeout_seconds,
            output_limit=step.output_limit,
            idempotent=step.idempotent,
            maximum_attempts=step.retry.maximum_attempts,
            expect=step.expect,
        )
        try:
            outcome: CommandOutcome = await workflow.execute_activity(
                RUN_COMMAND_ACTIVITY,
                request,
                result_type=CommandOutcome,
                start_to_close_timeout=timedelta(seconds=step.timeout_seconds) + COMMAND_MARGIN,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=_command_retry(step.retry),
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                summary=f"{step.phase} {step.name}",
            )
        except ActivityError as err:
            _raise_if_cancelled(err)
            last = _outcome_in(err)
            if last is None:
                raise _StepFailed(_reason(err)) from None
            _record_output(state, last)
            raise _StepFailed(unmet_expectation(step.expect, last) or _reason(err)) from None
        _record_output(state, outcome)
        problem = unmet_expectation(step.expect, outcome)
        if problem is not None:
            raise _StepFailed(problem)
        return {"stdout": outcome.stdout, "stderr": outcome.stderr, "exit_code": outcome.exit_code}

    async def _run_provider(self, step: RunbookStepPlan, state: StepState) -> dict[str, Any]:
        assert step.provider is not None
        values = self._values()
        params = _render_params(step.provider, values, step.name)
        self._register_rollback(step, values)
        state.attempts = 1
        results = await self._call_provider(
            step.provider, params, step.name, step.retry, step.timeout_seconds
        )
        return {"results": results}

    async def _call_provider(
        self,
        provider: ProviderPlan,
        params: dict[str, Any],
        name: str,
        retry: RetryPlan,
        timeout_seconds: float,
    ) -> Any:
        call = ProviderCallInput(
            org=self._input.org_id,
            incident_id=self._state.incident_id,
            workflow_id=self._plan.id,
            run_id=workflow.info().workflow_id,
            step=name,
            provider_type=provider.type,
            connection=provider.connection,
            params=params,
            idempotency_key=f"{workflow.info().workflow_id}/{name}",
        )
        try:
            return await workflow.execute_activity(
                provider_activity(provider.type),
                call,
                start_to_close_timeout=timedelta(seconds=timeout_seconds),
                retry_policy=_retry(retry),
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                summary=name,
            )
        except ActivityError as err:
            _raise_if_cancelled(err)
            raise _StepFailed(_reason(err)) from None

    def _register_rollback(self, step: RunbookStepPlan, values: dict[str, Any]) -> None:
        """Push the compensation before the step runs; it is rendered now, from what the
        earlier steps gave (a rollback never reads its own step's output)."""
        rollback = step.rollback
        if rollback is None:
            compensation = None
        elif rollback.run is not None:
            compensation = _Compensation(
                step=step.name,
                plan=rollback,
                command=_render_command(rollback.run, values, f"{step.name}.rollback"),
                connector=self._connector(rollback.connector or step.connector, step.name),
            )
        else:
            assert rollback.provider is not None
            params = _render_params(rollback.provider, values, f"{step.name}.rollback")
            compensation = _Compensation(step=step.name, plan=rollback, params=params)
        if compensation is not None:
            self._compensations.append(compensation)
        if step.phase == "step":
            self._touched.append(step.name)

    def _connector(self, connector: Connector | None, step: str) -> Connector:
        if connector is None:
            connector = "ssh" if self._input.target.connection else "local"
        if connector == "ssh" and not self._input.target.connection:
            raise _StepFailed(
                f"'{step}' runs over ssh but the session has no target connection; "
                "give the runbook a target, or set `connector: local` on the step"
            )
        return connector

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
        approval = self._plan.approval
        roles = list(approval.roles)
        command = self._what_runs(step)
        decided = await self._wait_for_decision(
            step.name, roles, approval.timeout_seconds, "approval_requested", command
        )
        if not decided and approval.on_timeout == "escalate":
            roles = list(dict.fromkeys([*roles, *approval.escalate_to]))
            wait = approval.escalation_timeout_seconds or approval.timeout_seconds
            decided = await self._wait_for_decision(
                step.name, roles, wait, "approval_escalated", command
            )
        if not decided:
            self._apply_decision(step.name, False, TIMEOUT_APPROVER, "no decision in time")
        self._state.pending = None
        self._state.status = "running"
        decision = self._decisions[step.name]
        state.approved_by = decision.approver
        state.approval_note = self._decision_notes.get(step.name)
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
            return _render_command(step.run, self._values(), f"{step.name}.run")
        except _StepFailed as failed:
            return str(failed)

    async def _wait_for_decision(
        self, step: str, roles: list[str], seconds: float, kind: NoticeKind, command: str
    ) -> bool:
        now = workflow.now()
        deadline = now + timedelta(seconds=seconds)
        previous = self._state.pending
        self._state.pending = PendingApproval(
            step=step,
            roles=roles,
            requested_at=previous.requested_at if previous else now,
            deadline=deadline,
            escalated=kind == "approval_escalated",
            command=command,
        )
        self._state.status = "waiting_approval"
        self._step_state(step).status = "waiting_approval"
        self._publish()
        await self._notify(kind, step, roles, deadline)
        remaining = (deadline - workflow.now()).total_seconds()
        try:
            await workflow.wait_condition(
                lambda: step in self._decisions,
                timeout=max(remaining, 0.001),
                timeout_summary=f"approval of {step}",
            )
        except TimeoutError:
            return step in self._decisions
        return True

    async def _notify(
        self, kind: NoticeKind, step: str, roles: list[str], deadline: datetime
    ) -> None:
        notice = ApprovalNotice(
            kind=kind,
            session_id=self._input.session_id,
            org_id=self._input.org_id,
            incident_id=self._state.incident_id,
            runbook=self._plan.name,
            step=step,
            roles=roles,
            deadline=deadline,
        )
        try:
            await workflow.execute_activity(
                NOTIFY_APPROVAL_ACTIVITY,
                notice,
                start_to_close_timeout=BOOKKEEPING_TIMEOUT,
                retry_policy=BOOKKEEPING_RETRY,
                summary=f"{kind} {step}",
            )
        except ActivityError as err:
            _raise_if_cancelled(err)
            # A lost notification must not stop the session: the request still waits.
            workflow.logger.warning("approval notification for %s failed: %s", step, err)

    def _signalled(self, decision: SignalDecision, *, approve: bool) -> None:
        refused = self._refusal(decision.step, decision.approver, decision.roles)
        if refused is None:
            self._apply_decision(decision.step, approve, decision.approver, decision.note)
            return
        error, message = refused
        self._state.refusals.append(
            Refusal(
                step=decision.step,
                approver=decision.approver,
                approve=approve,
                error=error,
                message=message,
                at=workflow.now(),
            )
        )

    def _raise_if_refused(self, step: str, approver: str, roles: Sequence[str]) -> None:
        refused = self._refusal(step, approver, roles)
        if refused is not None:
            error, message = refused
            raise ApplicationError(message, type=error, non_retryable=True)

    def _refusal(self, step: str, approver: str, roles: Sequence[str]) -> tuple[str, str] | None:
        """Why this decision cannot be applied: (error type, message); None if it can."""
        decided = self._decisions.get(step)
        if decided is not None:
            verb = "approved" if decided.approved else "rejected"
            return ALREADY_DECIDED, f"step '{step}' was already {verb} by {decided.approver}"
        if self._state.status in (*FINAL_STATUSES, "rolling_back"):
            return SESSION_OVER, f"the session is over ({self._state.status})"
        pending = self._state.pending
        if pending is None or pending.step != step:
            waiting = (
                f"; step '{pending.step}' is" if pending else "; no step is"
            ) + " waiting for an approval"
            return NOT_PENDING, f"step '{step}' is not waiting for an approval{waiting}"
        if approver == self._input.requester:
            return SELF_APPROVAL, f"{approver} started this session and cannot decide its steps"
        if not set(roles) & set(pending.roles):
            held = ", ".join(roles) or "no role"
            return ROLE_MISSING, (
                f"deciding step '{step}' needs one of the roles {', '.join(pending.roles)}; "
                f"{approver} has {held}"
            )
        return None

    def _apply_decision(
        self, step: str, approve: bool, approver: str, note: str | None
    ) -> DecisionResult:
        result = DecisionResult(
            step=step, approved=approve, approver=approver, decided_at=workflow.now()
        )
        self._decisions[step] = result
        self._decision_notes[step] = note
        return result

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
        undone_or_failed: set[str] = set()
        for compensation in reversed(self._compensations):
            self._rolling_back = compensation.step
            self._publish()
            outcome = await self._compensate(compensation)
            self._state.rollbacks.append(outcome)
            undone_or_failed.add(compensation.step)
        self._rolling_back = None
        for step in reversed(self._touched):
            if step not in undone_or_failed:
                self._state.rollbacks.append(RollbackResult(step=step, status="no_rollback"))
        failed = any(r.status == "failed" for r in self._state.rollbacks)
        return "rollback_failed" if failed else "rolled_back"

    async def _compensate(self, compensation: _Compensation) -> RollbackResult:
        plan = compensation.plan
        name = f"{compensation.step}:rollback"
        timeout = timedelta(seconds=plan.timeout_seconds)
        try:
            if compensation.command is not None:
                outcome: CommandOutcome = await workflow.execute_activity(
                    RUN_ROLLBACK_ACTIVITY,
                    self._rollback_request(compensation, compensation.command),
                    result_type=CommandOutcome,
                    start_to_close_timeout=timeout + COMMAND_MARGIN,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=_retry(plan.retry),
                    summary=f"rollback {compensation.step}",
                )
                return RollbackResult(
                    step=compensation.step, status="undone", attempts=outcome.attempt
                )
            assert plan.provider is not None
            await self._call_provider(
                plan.provider, compensation.params or {}, name, plan.retry, plan.timeout_seconds
            )
            return RollbackResult(step=compensation.step, status="undone", attempts=1)
        except ActivityError as err:
            last = _outcome_in(err)
            return RollbackResult(
                step=compensation.step,
                status="failed",
                error=_reason(err),
                attempts=last.attempt if last else 0,
            )
        except _StepFailed as failed:
            return RollbackResult(step=compensation.step, status="failed", error=str(failed))

    def _rollback_request(self, compensation: _Compensation, command: str) -> CommandRequest:
        return CommandRequest(
            session_id=self._input.session_id,
            org_id=self._input.org_id,
            step=compensation.step,
            purpose="rollback",
            command=command,
            connector=compensation.connector,
            connection=self._input.target.connection,
            timeout_seconds=compensation.plan.timeout_seconds,
            output_limit=16 * 1024,
            idempotent=True,  # rollbacks are written to be safe to repeat (docs/runbooks.md)
            maximum_attempts=compensation.plan.retry.maximum_attempts,
            expect=ExpectPlan(),
        )

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
            summary=self._summary(status, result, confidence, reason),
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
        record = OutcomeRecord(
            session_id=self._input.session_id,
            org_id=self._input.org_id,
            incident_id=incident_id,
            runbook_id=self._plan.id,
            runbook=self._plan.name,
            status=self._state.status,
            result=outcome.result,
            confidence=outcome.confidence,
            summary=outcome.summary,
            requester=self._input.requester,
            steps=[
                StepSummary(name=s.name, phase=s.phase, status=s.status, exit_code=s.exit_code)
                for s in self._state.steps
            ],
            rollbacks=self._state.rollbacks,
        )
        try:
            await workflow.execute_activity(
                RECORD_OUTCOME_ACTIVITY,
                record,
                result_type=OutcomeRecorded,
                start_to_close_timeout=BOOKKEEPING_TIMEOUT,
                retry_policy=BOOKKEEPING_RETRY,
                summary="record outcome on the incident",
            )
        except ActivityError as err:
            workflow.logger.warning("recording the session outcome failed: %s", err)
            return
        outcome.recorded = True  # by this attempt or, for a retry, an earlier one

    async def _update_ticket(self, outcome: SessionOutcome) -> None:
        params = ticket_update(self._input, outcome, self._state.incident_id)
        provider = ProviderPlan(
            type=self._input.ticket_system, connection=self._input.ticket_connection
        )
        try:
            await self._call_provider(
                provider, params, "ticket-update", RetryPlan(maximum_attempts=3), 60.0
            )
        except _StepFailed as failed:
            outcome.ticket_error = str(failed)

    def _summary(
        self, status: SessionStatus, result: OutcomeResult, confidence: float, reason: str | None
    ) -> str:
        checked = [s for s in self._state.steps if s.phase in ("step", "postcheck")]
        passed = sum(1 for s in checked if s.status == "succeeded")
        parts = [
            f"Runbook '{self._plan.name}' {status.replace('_', ' ')}: "
            f"{passed} of {len(checked)} steps and postchecks succeeded; "
            f"outcome {result} (confidence {confidence:.2f})."
        ]
        if reason:
            parts.append(f"Stopped: {reason}.")
        undone = [r.step for r in self._state.rollbacks if r.status == "undone"]
        failed = [r.step for r in self._state.rollbacks if r.status == "failed"]
        kept = [r.step for r in self._state.rollbacks if r.status == "no_rollback"]
        if undone:
            parts.append(f"Undone: {', '.join(undone)}.")
        if failed:
            parts.append(f"Rollback FAILED for: {', '.join(failed)}.")
        if kept:
            parts.append(f"No rollback defined (left as is): {', '.join(kept)}.")
        return " ".join(parts)

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

    def _publish_identity(self) -> None:
        updates: list[SearchAttributeUpdate[Any]] = [
            SA_ORG.value_set(self._input.org_id),
            SA_WORKFLOW.value_set(self._plan.id),
        ]
        if self._plan.plan_hash:
            updates.append(SA_PLAN_HASH.value_set(self._plan.plan_hash))
        if self._state.incident_id:
            updates.append(SA_INCIDENT.value_set(str(self._state.incident_id)))
        severity = self._incident.get("severity")
        if severity:
            updates.append(SA_SEVERITY.value_set(str(severity)))
        workflow.upsert_search_attributes(updates)

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
        workflow.set_current_details(self._details())

    def _details(self) -> str:
        state = self._state
        pending = state.pending
        if pending is not None:
            then = (
                "then it is rejected"
                if pending.escalated or self._plan.approval.on_timeout == "reject"
                else f"then it escalates to {', '.join(self._plan.approval.escalate_to)}"
            )
            return (
                f"**Waiting for approval** of step `{pending.step}` from "
                f"{' or '.join(pending.roles)} until {_when(pending.deadline)}; {then}."
            )
        if state.status == "rolling_back":
            return f"**Rolling back**: undoing `{self._rolling_back or '-'}`."
        if state.status == "running":
            running = next((s for s in state.steps if s.status == "running"), None)
            return f"**Running** {running.phase} `{running.name}`." if running else "**Running**."
        if state.outcome is not None:
            return f"**{state.status.replace('_', ' ').capitalize()}**: {state.outcome.summary}"
        return f"**{state.status}**"

    def _step_state(self, name: str) -> StepState:
        state = self._state.step(name)
        assert state is not None, name
        return state


# --- helpers --------------------------------------------------------------------------


def _render_command(template: str, values: dict[str, Any], where: str) -> str:
    try:
        return render_command(template, values)
    except TemplateError as err:
        raise _StepFailed(f"cannot render {where}: {err.reason}") from None


def _render_params(provider: ProviderPlan, values: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        rendered = render_value(dict(provider.params), values)
    except TemplateError as err:
        raise _StepFailed(f"cannot render {where} parameters: {err.reason}") from None
    assert isinstance(rendered, dict)
    return rendered


def _record_output(state: StepState, outcome: CommandOutcome) -> None:
    state.exit_code = outcome.exit_code
    state.attempts = outcome.attempt
    state.host = outcome.host or None
    text = outcome.stdout if not outcome.stderr else f"{outcome.stdout}{outcome.stderr}"
    state.output_tail = tail(text, OUTPUT_TAIL_CHARS)


def _outcome_in(err: ActivityError) -> CommandOutcome | None:
    """The last attempt's result, which a failed expectation carries in its details."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details:
        try:
            return CommandOutcome.model_validate(cause.details[0])
        except ValueError:
            return None
    return None


def _reason(err: ActivityError) -> str:
    cause = err.cause
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, FailureError):
        return cause.message
    return str(cause) if cause is not None else str(err)


def _raise_if_cancelled(err: ActivityError) -> None:
    """An activity cancelled because the workflow was: go on as a cancellation. (One
    cancelled for another reason, e.g. its worker shutting down, is a step failure.)"""
    if isinstance(err.cause, TemporalCancelledError) and workflow.cancellation_reason() is not None:
        raise asyncio.CancelledError() from None


def _retry(retry: RetryPlan) -> RetryPolicy:
    return RetryPolicy(
        maximum_attempts=retry.maximum_attempts,
        initial_interval=timedelta(seconds=retry.initial_interval_seconds),
        backoff_coefficient=retry.backoff,
        maximum_interval=timedelta(seconds=retry.maximum_interval_seconds),
    )


def _command_retry(retry: RetryPlan) -> RetryPolicy:
    """One attempt more than the runbook asks for, kept for a dead worker or an unreachable
    host: the activity itself refuses to run a non-idempotent command a second time, and
    fails for good when a result misses `expect` after the runbook's own attempts."""
    policy = _retry(retry)
    policy.maximum_attempts = retry.maximum_attempts + 1
    return policy


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
