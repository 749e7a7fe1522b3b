"""Which names a template may use where, and which steps it may read.

The scopes mirror what the interpreter puts in the render context: `results` only
while enriching the incident after a step, `foreach` only while calling the provider
of a foreach step, `steps` only for steps that already ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dsl.templates import TEMPLATE_GLOBALS, ReferenceSet

RUN_NAMES = frozenset({"incident", "steps", "consts", "inputs", "fireline"})
TRIGGER_NAMES = frozenset({"incident", "consts"})

_UNAVAILABLE_BECAUSE = {
    "results": "'results' is only available in the step's own enrich_incident",
    "providers": "'providers' may only be used as config: \"{{ providers.NAME }}\"",
    "foreach": "'foreach' is only defined in provider.with of a step with foreach",
    "alert": "unknown name 'alert' in template: Fireline workflows see 'incident'",
}


@dataclass(frozen=True)
class StepOrder:
    """Every step and action of a workflow, in run order (steps, then actions)."""

    kinds: Mapping[str, str]  # name -> "step" | "action"
    positions: Mapping[str, int]

    def label(self, name: str) -> str:
        return f"{self.kinds.get(name, 'step')} '{name}'"


@dataclass(frozen=True)
class Scope:
    names: frozenset[str]
    owner: str | None = None  # the step or action whose template this is; None: a trigger

    def allows(self, name: str) -> bool:
        return name in self.names or name in TEMPLATE_GLOBALS


def step_scope(owner: str, *, results: bool = False, foreach: bool = False) -> Scope:
    extra = {"results"} if results else set()
    if foreach:
        extra.add("foreach")
    return Scope(RUN_NAMES | extra, owner)


TRIGGER_SCOPE = Scope(TRIGGER_NAMES)


def reference_problems(
    references: ReferenceSet, scope: Scope, order: StepOrder
) -> list[tuple[int, str]]:
    """Problems as (line inside the template, message)."""
    prefix = f"{order.label(scope.owner)}: " if scope.owner is not None else ""
    problems = [
        (line, prefix + _name_problem(name, scope))
        for name, line in references.names.items()
        if not scope.allows(name)
    ]
    if scope.owner is not None:
        problems += [
            (line, message)
            for step, line in references.steps.items()
            if (message := _step_problem(step, scope.owner, order))
        ]
    return problems


def _name_problem(name: str, scope: Scope) -> str:
    if scope.owner is None and name in RUN_NAMES | {"results", "foreach"}:
        return f"'{name}' is not available in a trigger condition"
    if name in _UNAVAILABLE_BECAUSE:
        return _UNAVAILABLE_BECAUSE[name]
    allowed = ", ".join([*sorted(scope.names), "has()", "now()"])
    return f"unknown name '{name}' in template (allowed: {allowed})"


def _step_problem(step: str, owner: str, order: StepOrder) -> str | None:
    if step not in order.positions:
        known = ", ".join(order.positions) or "none"
        return f"{order.label(owner)}: unknown step '{step}' (known: {known})"
    if step == owner:
        return f"{order.label(owner)} references itself; use 'results' in its enrich_incident"
    if order.positions[step] > order.positions[owner]:
        return f"{order.label(owner)} references {order.label(step)}, which runs after it"
    return None
