"""How a runbook session calls its activities (and tells its triage it ended), and how
their failures read to people.

Workflow code: every function here runs inside the session's workflow and schedules
activities; a step's failure is raised as `StepFailed`, whose message says why.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.exceptions import CancelledError as TemporalCancelledError

from dsl.jinja_env import TemplateError
from dsl.plan import ProviderPlan, RetryPlan
from dsl.runbook_plan import Connector
from dsl.shell import render_command
from dsl.templates import render_value
from workflows.models import ProviderCallInput
from workflows.names import (
    NOTIFY_APPROVAL_ACTIVITY,
    RECORD_OUTCOME_ACTIVITY,
    RUN_COMMAND_ACTIVITY,
    RUN_ROLLBACK_ACTIVITY,
    SESSION_FINISHED_SIGNAL,
    provider_activity,
)
from workflows.session_checks import tail, unmet_expectation
from workflows.session_models import (
    ApprovalNotice,
    CommandOutcome,
    CommandRequest,
    OutcomeRecord,
    OutcomeRecorded,
    SessionInput,
    SessionState,
    StepState,
)
from workflows.triage_models import SessionFinished

# The command activity heartbeats every couple of seconds; a worker that stops doing so
# for this long is taken for dead and the attempt is retried (and refused, unless the
# step is idempotent).
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
# On top of a command's own timeout: connecting, and stopping a command that overran.
COMMAND_MARGIN = timedelta(seconds=60)
BOOKKEEPING_TIMEOUT = timedelta(seconds=60)
BOOKKEEPING_RETRY = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(seconds=30))
OUTPUT_TAIL_CHARS = 4000


class StepFailed(Exception):
    """The current step failed; the message says why, for people."""


async def run_command(
    request: CommandRequest, retry: RetryPlan, state: StepState, summary: str
) -> CommandOutcome:
    """Run a step's command; its output lands in `state` whether it passed or not."""
    try:
        outcome = await _command_activity(
            RUN_COMMAND_ACTIVITY,
            request,
            _command_retry(retry),
            summary,
            workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
    except ActivityError as err:
        raise_if_cancelled(err)
        last = outcome_in(err)
        if last is None:
            raise StepFailed(reason(err)) from None
        _record_output(state, last)
        raise StepFailed(unmet_expectation(request.expect, last) or reason(err)) from None
    _record_output(state, outcome)
    problem = unmet_expectation(request.expect, outcome)
    if problem is not None:
        raise StepFailed(problem)
    return outcome


async def run_rollback_command(
    request: CommandRequest, retry: RetryPlan, summary: str
) -> CommandOutcome:
    """Run a rollback's command; an ActivityError says it failed for good."""
    return await _command_activity(RUN_ROLLBACK_ACTIVITY, request, retry_policy(retry), summary)


async def _command_activity(
    activity: str,
    request: CommandRequest,
    policy: RetryPolicy,
    summary: str,
    cancellation: workflow.ActivityCancellationType = workflow.ActivityCancellationType.TRY_CANCEL,
) -> CommandOutcome:
    outcome: CommandOutcome = await workflow.execute_activity(
        activity,
        request,
        result_type=CommandOutcome,
        start_to_close_timeout=timedelta(seconds=request.timeout_seconds) + COMMAND_MARGIN,
        heartbeat_timeout=HEARTBEAT_TIMEOUT,
        retry_policy=policy,
        cancellation_type=cancellation,
        summary=summary,
    )
    return outcome


async def call_provider(
    session: SessionInput,
    incident_id: str | None,
    provider: ProviderPlan,
    params: dict[str, Any],
    *,
    name: str,
    retry: RetryPlan,
    timeout_seconds: float,
) -> Any:
    """Call `provider` for the session as the step (or rollback) `name`; its results."""
    run_id = workflow.info().workflow_id
    call = ProviderCallInput(
        org=session.org_id,
        incident_id=incident_id,
        workflow_id=session.plan.id,
        run_id=run_id,
        step=name,
        provider_type=provider.type,
        connection=provider.connection,
        params=params,
        idempotency_key=f"{run_id}/{name}",
    )
    try:
        return await workflow.execute_activity(
            provider_activity(provider.type),
            call,
            start_to_close_timeout=timedelta(seconds=timeout_seconds),
            retry_policy=retry_policy(retry),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=name,
        )
    except ActivityError as err:
        raise_if_cancelled(err)
        raise StepFailed(reason(err)) from None


async def notify_approval(notice: ApprovalNotice) -> None:
    """Tell the approvers; a lost notification must not stop the session (it still waits)."""
    try:
        await workflow.execute_activity(
            NOTIFY_APPROVAL_ACTIVITY,
            notice,
            start_to_close_timeout=BOOKKEEPING_TIMEOUT,
            retry_policy=BOOKKEEPING_RETRY,
            summary=f"{notice.kind} {notice.step}",
        )
    except ActivityError as err:
        raise_if_cancelled(err)
        workflow.logger.warning("approval notification for %s failed: %s", notice.step, err)


async def record_outcome(record: OutcomeRecord) -> bool:
    """Write the outcome onto the incident; False when every attempt failed."""
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
        return False
    return True  # by this attempt or, for a retry, an earlier one


def resolve_connector(connector: Connector | None, step: str, target: str | None) -> Connector:
    """A step runs over ssh when the session has a target connection, else locally."""
    if connector is None:
        connector = "ssh" if target else "local"
    if connector == "ssh" and not target:
        raise StepFailed(
            f"'{step}' runs over ssh but the session has no target connection; "
            "give the runbook a target, or set `connector: local` on the step"
        )
    return connector


async def tell_triage(analysis_id: str | None, state: SessionState) -> None:
    """The triage that started the session follows it to its end."""
    if analysis_id is None:
        return
    outcome = state.outcome
    finished = SessionFinished(
        session_id=state.session_id,
        status=state.status,
        result=outcome.result if outcome is not None else None,
    )
    triage = workflow.get_external_workflow_handle(analysis_id)
    try:
        await triage.signal(SESSION_FINISHED_SIGNAL, finished)
    except Exception:
        workflow.logger.info("triage %s no longer follows", analysis_id)


def rendered_command(template: str, values: dict[str, Any], where: str) -> str:
    try:
        return render_command(template, values)
    except TemplateError as err:
        raise StepFailed(f"cannot render {where}: {err.reason}") from None


def rendered_params(provider: ProviderPlan, values: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        rendered = render_value(dict(provider.params), values)
    except TemplateError as err:
        raise StepFailed(f"cannot render {where} parameters: {err.reason}") from None
    assert isinstance(rendered, dict)
    return rendered


def outcome_in(err: ActivityError) -> CommandOutcome | None:
    """The last attempt's result, which a failed expectation carries in its details."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details:
        try:
            return CommandOutcome.model_validate(cause.details[0])
        except ValueError:
            return None
    return None


def reason(err: ActivityError) -> str:
    cause = err.cause
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, FailureError):
        return cause.message
    return str(cause) if cause is not None else str(err)


def raise_if_cancelled(err: ActivityError) -> None:
    """An activity cancelled because the workflow was: go on as a cancellation. (One
    cancelled for another reason, e.g. its worker shutting down, is a step failure.)"""
    if isinstance(err.cause, TemporalCancelledError) and workflow.cancellation_reason() is not None:
        raise asyncio.CancelledError() from None


def retry_policy(retry: RetryPlan) -> RetryPolicy:
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
    policy = retry_policy(retry)
    policy.maximum_attempts = retry.maximum_attempts + 1
    return policy


def _record_output(state: StepState, outcome: CommandOutcome) -> None:
    state.exit_code = outcome.exit_code
    state.attempts = outcome.attempt
    state.host = outcome.host or None
    text = outcome.stdout if not outcome.stderr else f"{outcome.stdout}{outcome.stderr}"
    state.output_tail = tail(text, OUTPUT_TAIL_CHARS)
