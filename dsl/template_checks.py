"""Template checks: syntax of every string in the file, then what each template reads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dsl.diagnostics import Problem
from dsl.references import TRIGGER_SCOPE, Scope, StepOrder, reference_problems, step_scope
from dsl.spec import IncidentTrigger, LocatedStep, WorkflowSpec
from dsl.spec_errors import display_path
from dsl.templates import (
    FALSE_WORDS,
    TemplateError,
    is_template,
    mixes_text_and_tags,
    referenced_names,
    single_expression,
    syntax_problem,
)
from dsl.yaml_source import NodePath, SourceMap

_CONSTANT_CONDITIONS = FALSE_WORDS | {"true", "yes", "1"}


def iter_strings(value: Any, path: NodePath) -> Iterator[tuple[NodePath, str]]:
    """Every string inside `value` (dict values and list items), with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from iter_strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_strings(item, (*path, index))


def syntax_problems(document: Any, root: NodePath) -> list[Problem]:
    """A template syntax error in any string anywhere in the file."""
    problems = []
    for path, text in iter_strings(document, ()):
        if not is_template(text):
            continue
        problem = syntax_problem(text)
        if problem is not None:
            owner, field = _describe_field(document, path, root)
            message = f"{owner}template syntax error in {field}: {problem.message}"
            problems.append(Problem(path, message, template_line=problem.line))
    return problems


def _describe_field(document: Any, path: NodePath, root: NodePath) -> tuple[str, str]:
    """("step 'x': ", "provider.with.summary") for a path inside a step."""
    relative = path[len(root) :]
    if len(relative) > 2 and relative[0] in ("steps", "actions"):
        name = _step_name(document, path[: len(root) + 2])
        kind = "step" if relative[0] == "steps" else "action"
        return f"{kind} '{name}': ", display_path(relative[2:])
    return "", display_path(relative)


def _step_name(document: Any, path: NodePath) -> str:
    node = document
    for segment in path:
        node = node[segment]
    name = node.get("name") if isinstance(node, Mapping) else None
    return "<unnamed>" if name is None else str(name)


def step_order(spec: WorkflowSpec) -> StepOrder:
    kinds: dict[str, str] = {}
    positions: dict[str, int] = {}
    for position, located in enumerate(spec.located_steps()):
        kinds.setdefault(located.spec.name, located.kind)
        positions.setdefault(located.spec.name, position)
    return StepOrder(kinds, positions)


def reference_checks(spec: WorkflowSpec, root: NodePath, source: SourceMap) -> list[Problem]:
    """Names and step references of every templated field, plus condition shape."""
    order = step_order(spec)
    problems: list[Problem] = []
    for index, trigger in enumerate(spec.triggers):
        if isinstance(trigger, IncidentTrigger) and trigger.if_ is not None:
            path = (*root, "triggers", index, "if")
            problems += _template_problems(trigger.if_, path, TRIGGER_SCOPE, order)
            problems += _condition_warnings(trigger.if_, path)
    for located in spec.located_steps():
        problems += _step_problems(located, (*root, *located.path), source, order)
    return problems


def _step_problems(
    located: LocatedStep, base: NodePath, source: SourceMap, order: StepOrder
) -> list[Problem]:
    step = located.spec
    problems: list[Problem] = []
    if step.if_ is not None:
        key = "if" if source.has((*base, "if")) else "condition"
        path = (*base, key)
        problems += _template_problems(step.if_, path, step_scope(step.name), order)
        problems += _condition_warnings(step.if_, path, located.label)
    if step.foreach is not None:
        path = (*base, "foreach")
        problems += _template_problems(step.foreach, path, step_scope(step.name), order)
        problems += _foreach_shape(step.foreach, path, located.label)
    with_scope = step_scope(step.name, foreach=step.foreach is not None)
    for path, text in iter_strings(step.provider.with_, (*base, "provider", "with")):
        problems += _template_problems(text, path, with_scope, order)
    enrich_scope = step_scope(step.name, results=True)
    for index, item in enumerate(step.enrich_incident):
        path = (*base, "enrich_incident", index, "value")
        problems += _template_problems(item.value, path, enrich_scope, order)
    return problems


def _template_problems(text: str, path: NodePath, scope: Scope, order: StepOrder) -> list[Problem]:
    if not is_template(text):
        return []
    try:
        references = referenced_names(text)
    except TemplateError:
        return []  # reported by syntax_problems
    return [
        Problem(path, message, template_line=line)
        for line, message in reference_problems(references, scope, order)
    ]


def _condition_warnings(text: str, path: NodePath, label: str | None = None) -> list[Problem]:
    prefix = f"{label}: " if label else ""
    if not is_template(text) and text.strip().lower() not in _CONSTANT_CONDITIONS:
        message = f"condition {text!r} has no {{{{ }}}}, so it is constant text and always true"
    elif mixes_text_and_tags(text):
        message = (
            f"condition {text!r} mixes text and {{{{ }}}}: only the rendered text is tested; "
            "write the whole test inside one {{ }}"
        )
    else:
        return []
    return [Problem(path, prefix + message, severity="warning")]


def _foreach_shape(text: str, path: NodePath, label: str) -> list[Problem]:
    if single_expression(text) is not None or syntax_problem(text) is not None:
        return []
    message = f"{label}: foreach must be a single {{{{ expression }}}} that gives a list"
    return [Problem(path, message)]
