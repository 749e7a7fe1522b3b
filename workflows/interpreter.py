"""One Temporal workflow that interprets every YAML plan.

It is registered as a *dynamic* workflow, so the workflow type shown in the Temporal
UI is the YAML `id` while a single class runs them all. The plan arrives pinned in the
input: editing a YAML file never changes a run in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from dsl.plan import StepPlan
    from dsl.templates import TemplateError, evaluate_condition, render_value
    from workflows.models import (
        EnrichIncidentInput,
        ProviderCallInput,
        StepOutcome,
        WorkflowInput,
        WorkflowOutcome,
    )
    from workflows.names import ENRICH_ACTIVITY, provider_activity
    from workflows.render_context import RenderContext


class StepError(Exception):
    """A step failed; the message says which step and why."""


@workflow.defn(dynamic=True)
class YamlWorkflowInterpreter:
    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> dict[str, Any]:
        run_input = workflow.payload_converter().from_payload(args[0].payload, WorkflowInput)
        outcome = await _PlanRun(run_input).execute()
        return outcome.model_dump(mode="json")


class _PlanRun:
    def __init__(self, run_input: WorkflowInput) -> None:
        self.input = run_input
        self.plan = run_input.plan
        self.context = RenderContext.for_run(run_input, workflow.now())
        self.outcome = WorkflowOutcome(workflow_id=self.plan.id, plan_hash=self.plan.plan_hash)

    async def execute(self) -> WorkflowOutcome:
        for step in self.plan.all_steps():
            step_outcome = await self._run_guarded(step)
            self.outcome.steps.append(step_outcome)
            self.context.record(step_outcome)
            if step_outcome.status == "failed" and step.on_failure == "fail":
                raise ApplicationError(step_outcome.error or "", non_retryable=True)
        return self.outcome

    async def _run_guarded(self, step: StepPlan) -> StepOutcome:
        try:
            return await self._run_step(step)
        except StepError as err:
            return StepOutcome(name=step.name, status="failed", error=str(err))
        except Exception as err:  # anything else would retry the workflow task forever
            reason = f"{type(err).__name__}: {err}"
            error = f"step '{step.name}' (line {step.line}) failed unexpectedly: {reason}"
            return StepOutcome(name=step.name, status="failed", error=error)

    async def _run_step(self, step: StepPlan) -> StepOutcome:
        if step.condition and not self._check(step, "if", step.condition):
            return StepOutcome(name=step.name, status="skipped")
        if step.foreach is None:
            results = await self._call_provider(step, self.context.values())
        else:
            results = [
                await self._call_provider(step, self._foreach_values(item, index), index)
                for index, item in enumerate(self._foreach_items(step))
            ]
        await self._enrich(step, results)
        return StepOutcome(name=step.name, status="succeeded", results=results)

    def _check(self, step: StepPlan, field: str, source: str) -> bool:
        try:
            return evaluate_condition(source, self.context.values())
        except TemplateError as err:
            raise _template_failure(step, field, err) from err

    def _foreach_items(self, step: StepPlan) -> list[Any]:
        items = self._render(step, "foreach", step.foreach, self.context.values())
        if not isinstance(items, list | tuple):
            raise StepError(
                f"step '{step.name}' failed: foreach must give a list, got "
                f"{type(items).__name__} from template {step.foreach!r}"
            )
        return list(items)

    def _foreach_values(self, item: Any, index: int) -> dict[str, Any]:
        """Keep's convention: the current item is `foreach.value`."""
        return self.context.values(foreach={"value": item, "index": index})

    def _render(self, step: StepPlan, field: str, value: Any, values: dict[str, Any]) -> Any:
        try:
            return render_value(value, values)
        except TemplateError as err:
            raise _template_failure(step, field, err) from err

    async def _call_provider(self, step: StepPlan, values: dict[str, Any], index: int = 0) -> Any:
        params = self._render(step, "provider.with", dict(step.provider.params), values)
        call = ProviderCallInput(
            org=self.input.org,
            incident_id=self.context.incident_id,
            workflow_id=self.plan.id,
            run_id=workflow.info().workflow_id,
            step=step.name,
            provider_type=step.provider.type,
            connection=step.provider.connection,
            params=params,
            idempotency_key=f"{workflow.info().workflow_id}/{step.name}/{index}",
        )
        try:
            return await workflow.execute_activity(
                provider_activity(step.provider.type),
                call,
                start_to_close_timeout=timedelta(seconds=step.timeout_seconds),
                retry_policy=_retry_policy(step),
                summary=step.name,
            )
        except ActivityError as err:
            raise StepError(_activity_failure(step, err)) from err

    async def _enrich(self, step: StepPlan, results: Any) -> None:
        if not step.enrich_incident:
            return
        if self.context.incident_id is None:
            raise StepError(f"step '{step.name}' failed: enrich_incident needs an incident")
        values = self.context.values(results=results)
        enrichments = {
            item.key: self._render(step, f"enrich_incident.{item.key}", item.value, values)
            for item in step.enrich_incident
        }
        request = EnrichIncidentInput(
            org=self.input.org,
            incident_id=self.context.incident_id,
            enrichments=enrichments,
            actor=f"workflow:{self.plan.id}",
        )
        try:
            await workflow.execute_activity(
                ENRICH_ACTIVITY,
                request,
                start_to_close_timeout=timedelta(seconds=30),
                summary=f"{step.name}: enrich incident",
            )
        except ActivityError as err:
            raise StepError(_activity_failure(step, err)) from err
        self.context.apply_enrichments(enrichments)


def _retry_policy(step: StepPlan) -> RetryPolicy:
    retry = step.retry
    return RetryPolicy(
        maximum_attempts=retry.maximum_attempts,
        initial_interval=timedelta(seconds=retry.initial_interval_seconds),
        backoff_coefficient=retry.backoff,
        maximum_interval=timedelta(seconds=retry.maximum_interval_seconds),
    )


def _template_failure(step: StepPlan, field: str, err: TemplateError) -> StepError:
    return StepError(
        f"step '{step.name}' (line {step.line}) failed: template in {field} "
        f"{err.template!r}: {err.reason}. Fix the template in the workflow file, "
        "or guard it with has()/default."
    )


def _activity_failure(step: StepPlan, err: ActivityError) -> str:
    cause = err.cause
    reason = str(cause) if cause is not None else str(err)
    return (
        f"step '{step.name}' (provider {step.provider.type}) failed after "
        f"{step.retry.maximum_attempts} attempt(s): {reason}"
    )
