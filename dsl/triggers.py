"""When a plan's triggers fire, and what a manual run must be given. Pure."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from dsl.plan import FilterPlan, InputPlan, TriggerPlan, WorkflowPlan
from dsl.templates import TemplateError, evaluate_condition
from dsl.values import matches_input_type, text_form, type_name, with_article

_ENRICHMENTS = "enrichments"


def incident_trigger_matches(
    plan: WorkflowPlan, event: str, incident: Mapping[str, Any], now: datetime
) -> bool:
    """True when an incident trigger of an enabled plan fires for `event` on `incident`."""
    if plan.disabled:
        return False
    return any(
        _fires(trigger, event, incident, plan.consts, now)
        for trigger in plan.triggers
        if trigger.type == "incident"
    )


def _fires(
    trigger: TriggerPlan,
    event: str,
    incident: Mapping[str, Any],
    consts: Mapping[str, Any],
    now: datetime,
) -> bool:
    if event not in trigger.events:
        return False
    if not all(filter_matches(f, incident) for f in trigger.filters):
        return False
    if trigger.condition is None:
        return True
    context = {"incident": incident, "consts": consts, "now": now}
    try:
        return evaluate_condition(trigger.condition, context)
    except TemplateError:
        return False  # a condition that cannot be evaluated does not fire the workflow


def filter_matches(rule: FilterPlan, incident: Mapping[str, Any]) -> bool:
    """The regex matches the whole text of the field; a list matches if any item does."""
    found, value = _field(incident, rule.key)
    if not found or value is None:
        return False
    pattern = _regex(rule.value)
    items = value if isinstance(value, list | tuple) else [value]
    return any(pattern.fullmatch(text_form(item)) for item in items)


def _field(incident: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    found, value = _lookup(incident, key)
    if found and value is not None:
        return found, value
    enrichments = incident.get(_ENRICHMENTS)
    if isinstance(enrichments, Mapping):
        return _lookup(enrichments, key)
    return found, value


def _lookup(data: Mapping[str, Any], dotted_key: str) -> tuple[bool, Any]:
    if dotted_key in data:  # an enrichment key may itself contain dots
        return True, data[dotted_key]
    node: Any = data
    for part in dotted_key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def manual_inputs(plan: WorkflowPlan) -> dict[str, InputPlan]:
    """The inputs declared by the plan's manual triggers, by name (first one wins)."""
    declared: dict[str, InputPlan] = {}
    for trigger in plan.triggers:
        if trigger.type == "manual":
            for item in trigger.inputs:
                declared.setdefault(item.name, item)
    return declared


def validate_manual_inputs(
    plan: WorkflowPlan, inputs: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Inputs with defaults applied, and one message per bad field."""
    return validate_inputs(manual_inputs(plan), inputs)


def validate_inputs(
    declared: Mapping[str, InputPlan], inputs: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Given inputs checked against the declared ones (a workflow's manual trigger, a
    runbook): defaults applied, and one message per bad field."""
    errors = [
        f"unknown input '{name}' (known: {', '.join(declared) or 'none'})"
        for name in inputs
        if name not in declared
    ]
    checked: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in inputs and inputs[name] is not None:
            value = inputs[name]
            if not matches_input_type(spec.type, value):
                wanted = with_article(spec.type)
                errors.append(f"input '{name}' must be {wanted}, got {type_name(value)}")
            checked[name] = value
        elif spec.default is not None:
            checked[name] = copy.deepcopy(spec.default)
        elif spec.required:
            errors.append(f"missing required input '{name}'")
    return checked, errors


def interval_seconds(plan: WorkflowPlan) -> float | None:
    """The shortest period of the plan's interval triggers; None when it has none."""
    periods = [t.every_seconds for t in plan.triggers if t.type == "interval" and t.every_seconds]
    return min(periods) if periods else None
