"""Whole-workflow checks on a validated spec: names, providers, plan-safe values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from dsl.diagnostics import Problem
from dsl.providers import ProviderType, provider_type, unknown_provider_message
from dsl.spec import LocatedStep, ManualTrigger, ProviderSpec, WorkflowSpec
from dsl.templates import syntax_problem
from dsl.yaml_source import NodePath

_CONFIG = re.compile(r"\s*\{\{\s*providers(?:\.([\w-]+)|\[\s*'([\w-]+)'\s*\])\s*\}\}\s*")
_CONFIG_FORM = '"{{ providers.NAME }}"'


def duplicate_name_problems(spec: WorkflowSpec, root: NodePath) -> list[Problem]:
    seen: dict[str, LocatedStep] = {}
    problems = []
    for located in spec.located_steps():
        first = seen.setdefault(located.spec.name, located)
        if first is not located:
            message = (
                f"duplicate name '{located.spec.name}': already used by an earlier "
                f"{first.kind}; names must be unique across steps and actions"
            )
            problems.append(Problem((*root, *located.path, "name"), message))
    return problems


def provider_problems(located: LocatedStep, root: NodePath) -> list[Problem]:
    provider = located.spec.provider
    base = (*root, *located.path, "provider")
    catalog_entry = provider_type(provider.type)
    if catalog_entry is None:
        message = f"{located.label}: {unknown_provider_message(provider.type)}"
        return [Problem((*base, "type"), message)]
    prefix = f"{located.label}: "
    problems = _config_problems(provider, catalog_entry, base, prefix)
    problems += _parameter_problems(provider, catalog_entry, base, prefix)
    return problems


def connection_name(config: str) -> str | None:
    """`"{{ providers.jira }}"` -> `"jira"`; None when config has another form."""
    match = _CONFIG.fullmatch(config)
    return (match.group(1) or match.group(2)) if match else None


def _config_problems(
    provider: ProviderSpec, entry: ProviderType, base: NodePath, prefix: str
) -> list[Problem]:
    config = provider.config
    if config is None:
        if entry.config != "required":
            return []
        message = f"provider '{entry.name}' needs config: {_CONFIG_FORM} naming a connection"
        return [Problem(base, prefix + message, at_key=True)]
    if entry.config == "none":
        return [Problem((*base, "config"), f"{prefix}provider '{entry.name}' takes no config")]
    if connection_name(config) is None and syntax_problem(config) is None:
        message = f"config must be exactly {_CONFIG_FORM}, got {config!r}"
        return [Problem((*base, "config"), prefix + message)]
    return []


def _parameter_problems(
    provider: ProviderSpec, entry: ProviderType, base: NodePath, prefix: str
) -> list[Problem]:
    params = provider.with_
    with_path = (*base, "with")
    problems = [
        Problem((*with_path, name), prefix + entry.unknown_parameter_message(name), at_key=True)
        for name in params
        if entry.parameter(name) is None
    ]
    problems += [
        Problem((*with_path, name), prefix + message)
        for name, message in entry.value_problems(params).items()
    ]
    missing_at = with_path if "with_" in provider.model_fields_set else base
    problems += [
        Problem(missing_at, prefix + message, at_key=True)
        for message in entry.missing_requirements(params)
    ]
    return problems


def plan_value_problems(spec: WorkflowSpec, root: NodePath) -> list[Problem]:
    """Values a plan cannot carry through JSON unchanged (YAML dates, sets, binary)."""
    problems = _unsafe_values(spec.consts, (*root, "consts"))
    for located in spec.located_steps():
        path = (*root, *located.path, "provider", "with")
        problems += _unsafe_values(located.spec.provider.with_, path)
    for index, trigger in enumerate(spec.triggers):
        if isinstance(trigger, ManualTrigger):
            for position, item in enumerate(trigger.inputs):
                path = (*root, "triggers", index, "inputs", position, "default")
                problems += _unsafe_values(item.default, path)
    return problems


def _unsafe_values(value: Any, path: NodePath) -> list[Problem]:
    if isinstance(value, Mapping):
        return [p for key, item in value.items() for p in _unsafe_values(item, (*path, key))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _unsafe_values(item, (*path, index))]
    if value is None or isinstance(value, str | int | float | bool):
        return []
    what = "a date" if isinstance(value, date) else f"a {type(value).__name__}"
    return [Problem(path, f"YAML reads this value as {what}; quote it to keep it as text")]
