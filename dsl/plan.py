"""The frozen, validated plan that a Temporal workflow interprets.

A plan is produced by `dsl.compiler.compile_text` / `compile_file` and pinned into the
workflow input, so it must round-trip through JSON unchanged. Template strings stay as text;
the interpreter renders them at run time with `dsl.templates`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TriggerEvent = Literal[
    "created", "updated", "status_changed", "severity_changed", "resolved", "reopened"
]
OnFailure = Literal["fail", "continue"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class RetryPlan(_Frozen):
    maximum_attempts: int = 3
    initial_interval_seconds: float = 1.0
    backoff: float = 2.0
    maximum_interval_seconds: float = 60.0


class EnrichmentPlan(_Frozen):
    key: str
    value: str  # a template


class ProviderPlan(_Frozen):
    type: str
    # Name of a connection in the providers file ("{{ providers.jira }}" -> "jira").
    # Only the name travels through Temporal; the activity resolves its secrets.
    connection: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)  # values may hold templates


class StepPlan(_Frozen):
    name: str
    kind: Literal["step", "action"] = "step"
    condition: str | None = None  # a template that renders truthy/falsy
    foreach: str | None = None  # a template expression yielding a list
    provider: ProviderPlan
    enrich_incident: tuple[EnrichmentPlan, ...] = ()
    retry: RetryPlan = RetryPlan()
    timeout_seconds: float = 60.0
    on_failure: OnFailure = "fail"
    line: int = 0  # line in the source file, for error messages


class FilterPlan(_Frozen):
    key: str
    value: str  # a regular expression matched against the incident field


class InputPlan(_Frozen):
    name: str
    type: Literal["string", "number", "boolean", "object", "list"] = "string"
    required: bool = False
    default: Any = None
    description: str = ""


class TriggerPlan(_Frozen):
    type: Literal["incident", "manual", "interval"]
    events: tuple[TriggerEvent, ...] = ()
    filters: tuple[FilterPlan, ...] = ()
    condition: str | None = None
    inputs: tuple[InputPlan, ...] = ()
    every_seconds: float | None = None


class WorkflowPlan(_Frozen):
    id: str
    name: str
    description: str = ""
    source_file: str = ""
    triggers: tuple[TriggerPlan, ...]
    consts: dict[str, Any] = Field(default_factory=dict)
    steps: tuple[StepPlan, ...] = ()
    actions: tuple[StepPlan, ...] = ()
    plan_hash: str = ""
    disabled: bool = False  # `disabled: true` in the YAML: compiled, never triggered

    def all_steps(self) -> tuple[StepPlan, ...]:
        return self.steps + self.actions

    def providers_used(self) -> set[tuple[str, str | None]]:
        return {(s.provider.type, s.provider.connection) for s in self.all_steps()}


_NOT_HASHED: dict[str, Any] = {
    "plan_hash": True,
    "source_file": True,
    "steps": {"__all__": {"line"}},
    "actions": {"__all__": {"line"}},
}


def content_hash(plan: WorkflowPlan) -> str:
    """Stable hash of everything that changes behaviour (not the file path).

    Step line numbers are left out too: adding a comment above a step changes them.
    """
    body = plan.model_dump(mode="json", exclude=_NOT_HASHED)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return digest[:16]


def with_hash(plan: WorkflowPlan) -> WorkflowPlan:
    return plan.model_copy(update={"plan_hash": content_hash(plan)})
