"""Starting one interpreter run: deterministic id, pinned plan, search attributes."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from dsl.plan import WorkflowPlan
from workflows.models import TriggerContext, WorkflowInput
from workflows.names import SA_INCIDENT, SA_ORG, SA_PLAN_HASH, SA_SEVERITY, SA_WORKFLOW


async def start_plan_run(
    client: Client,
    *,
    run_id: str,
    task_queue: str,
    run_input: WorkflowInput,
) -> bool:
    """Start the run; False when a run with this id already exists (a duplicate)."""
    try:
        await client.start_workflow(
            run_input.plan.id,
            run_input,
            id=run_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=search_attributes(run_input),
            static_summary=_summary(run_input),
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


def build_input(
    plan: WorkflowPlan,
    *,
    org: str,
    trigger: TriggerContext,
    incident: dict[str, Any] | None,
    inputs: dict[str, Any] | None = None,
    fireline_url: str = "",
) -> WorkflowInput:
    return WorkflowInput(
        plan=plan,
        org=org,
        trigger=trigger,
        incident=incident,
        inputs=inputs or {},
        fireline_url=fireline_url,
    )


def search_attributes(run_input: WorkflowInput) -> TypedSearchAttributes:
    incident = run_input.incident or {}
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(SA_ORG, run_input.org),
        SearchAttributePair(SA_WORKFLOW, run_input.plan.id),
        SearchAttributePair(SA_PLAN_HASH, run_input.plan.plan_hash),
    ]
    if incident.get("id"):
        pairs.append(SearchAttributePair(SA_INCIDENT, str(incident["id"])))
    if incident.get("severity"):
        pairs.append(SearchAttributePair(SA_SEVERITY, str(incident["severity"])))
    return TypedSearchAttributes(pairs)


def _summary(run_input: WorkflowInput) -> str:
    trigger = run_input.trigger
    what = f"{trigger.type}:{trigger.event}" if trigger.event else trigger.type
    title = (run_input.incident or {}).get("title")
    return f"{run_input.plan.name} ({what})" + (f" — {title}" if title else "")
