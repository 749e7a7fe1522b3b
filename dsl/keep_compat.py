"""Keep spellings rewritten into Fireline's before validation.

Keep puts `enrich_incident` inside `provider.with`; Fireline keeps it on the step, so
the list is moved there. The source map is told about each move, so an error inside a
moved entry still points at the line where the author wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dsl.yaml_source import NodePath

_STEP_LISTS = ("steps", "actions")


@dataclass(frozen=True)
class Normalized:
    body: Any  # the workflow mapping, with Keep spellings rewritten
    moved: dict[NodePath, NodePath] = field(default_factory=dict)  # new path -> written path
    # `provider.with.enrich_incident` of steps that also have their own enrich_incident
    clashes: list[NodePath] = field(default_factory=list)


def normalize_keep(body: Any, root: NodePath) -> Normalized:
    """Move `provider.with.enrich_incident` up to the step, in every step and action."""
    if not isinstance(body, Mapping):
        return Normalized(body)
    result = Normalized(dict(body))
    for list_name in _STEP_LISTS:
        steps = body.get(list_name)
        if isinstance(steps, list):
            result.body[list_name] = [
                _normalize_step(step, (*root, list_name, index), result)
                for index, step in enumerate(steps)
            ]
    return result


def _normalize_step(step: Any, path: NodePath, result: Normalized) -> Any:
    params = _with_params(step)
    if params is None or "enrich_incident" not in params:
        return step
    written_at = (*path, "provider", "with", "enrich_incident")
    other_params = {key: value for key, value in params.items() if key != "enrich_incident"}
    moved = {**step, "provider": {**step["provider"], "with": other_params}}
    if "enrich_incident" in step:
        result.clashes.append(written_at)
        return moved
    result.moved[(*path, "enrich_incident")] = written_at
    return {**moved, "enrich_incident": params["enrich_incident"]}


def _with_params(step: Any) -> Mapping[str, Any] | None:
    if not isinstance(step, Mapping):
        return None
    provider = step.get("provider")
    if not isinstance(provider, Mapping):
        return None
    params = provider.get("with")
    return params if isinstance(params, Mapping) else None
