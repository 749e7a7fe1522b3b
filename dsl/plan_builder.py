"""A validated spec turned into the frozen plan the interpreter runs."""

from __future__ import annotations

from collections.abc import Mapping

from dsl.checks import connection_name
from dsl.plan import (
    EnrichmentPlan,
    FilterPlan,
    InputPlan,
    ProviderPlan,
    RetryPlan,
    StepPlan,
    TriggerPlan,
    WorkflowPlan,
    with_hash,
)
from dsl.providers import provider_type
from dsl.spec import (
    IncidentTrigger,
    LocatedStep,
    ManualTrigger,
    ProviderSpec,
    TriggerSpec,
    WorkflowSpec,
)


def build_plan(
    spec: WorkflowSpec, source_file: str, step_lines: Mapping[tuple[str, int], int]
) -> WorkflowPlan:
    """`step_lines` maps a step's path below the workflow, ("steps", 0), to its line."""
    located = spec.located_steps()
    plan = WorkflowPlan(
        id=spec.id,
        name=spec.display_name,
        description=spec.description or "",
        source_file=source_file,
        disabled=spec.disabled,
        triggers=tuple(_trigger_plan(trigger) for trigger in spec.triggers),
        consts=dict(spec.consts),
        steps=tuple(_step_plan(s, step_lines.get(s.path, 0)) for s in located if s.kind == "step"),
        actions=tuple(
            _step_plan(s, step_lines.get(s.path, 0)) for s in located if s.kind == "action"
        ),
    )
    return with_hash(plan)


def _trigger_plan(trigger: TriggerSpec) -> TriggerPlan:
    if isinstance(trigger, IncidentTrigger):
        return TriggerPlan(
            type="incident",
            events=tuple(dict.fromkeys(trigger.events)),
            filters=tuple(FilterPlan(key=f.key, value=f.value) for f in trigger.filters),
            condition=trigger.if_,
        )
    if isinstance(trigger, ManualTrigger):
        inputs = tuple(InputPlan(**item.model_dump()) for item in trigger.inputs)
        return TriggerPlan(type="manual", inputs=inputs)
    return TriggerPlan(type="interval", every_seconds=trigger.seconds)


def _step_plan(located: LocatedStep, line: int) -> StepPlan:
    step = located.spec
    retry = step.retry
    return StepPlan(
        name=step.name,
        kind=located.kind,
        condition=step.if_,
        foreach=step.foreach,
        provider=_provider_plan(step.provider),
        enrich_incident=tuple(
            EnrichmentPlan(key=item.key, value=item.value) for item in step.enrich_incident
        ),
        retry=RetryPlan(
            maximum_attempts=retry.maximum_attempts,
            initial_interval_seconds=retry.initial_interval,
            backoff=retry.backoff,
            # The 60s default must not undercut a longer initial interval.
            maximum_interval_seconds=max(retry.maximum_interval, retry.initial_interval),
        ),
        timeout_seconds=step.timeout,
        on_failure=step.on_failure,
        line=line,
    )


def _provider_plan(provider: ProviderSpec) -> ProviderPlan:
    entry = provider_type(provider.type)
    params = entry.normalized(provider.with_) if entry else dict(provider.with_)
    connection = connection_name(provider.config) if provider.config else None
    return ProviderPlan(type=provider.type, connection=connection, params=params)
