"""Pydantic validation errors turned into problems that point at the YAML.

Pydantic locations include segments that are not written in the file (the tag of a
discriminated union, the name of a missing field); those are followed through the
models instead, and the problem points at the nearest node that is written.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Any, Union, get_args, get_origin

from pydantic import AliasChoices, BaseModel, ValidationError
from pydantic_core import ErrorDetails

from dsl.diagnostics import Problem
from dsl.yaml_source import NodePath, SourceMap

_ROOT_WRAPPER = "workflow"
_POINT_AT_TYPE = frozenset({"union_tag_invalid", "alert_trigger"})
_EXPECTED_SHAPE = {"model_type": "a mapping", "dict_type": "a mapping", "list_type": "a list"}


def validation_problems(
    error: ValidationError, source: SourceMap, model: type[BaseModel]
) -> list[Problem]:
    return [_problem(item, source, model) for item in error.errors(include_url=False)]


def _problem(item: ErrorDetails, source: SourceMap, model: type[BaseModel]) -> Problem:
    loc = tuple(item["loc"])
    written = _written_path(loc, source)
    kind = item["type"]
    if kind == "missing":
        return Problem(written, f"{_where(written)}missing required field '{loc[-1]}'", at_key=True)
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc[:-1])
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        message = f"{_where(written[:-1])}unknown field '{loc[-1]}'{hint}"
        return Problem(written, message, at_key=True)
    if kind == "union_tag_not_found":
        return Problem(written, f"{_where(written)}missing required field 'type'")
    if kind == "union_tag_invalid":
        ctx = item.get("ctx", {})
        message = f"unknown type '{ctx.get('tag')}' (expected {ctx.get('expected_tags')})"
        return Problem(_type_node(written, source), f"{_where(written)}{message}")
    if kind in _EXPECTED_SHAPE:
        found = _yaml_kind(item["input"])
        return Problem(written, f"{_where(written)}expected {_EXPECTED_SHAPE[kind]}, got {found}")
    if kind in _POINT_AT_TYPE:
        return Problem(_type_node(written, source), f"{_where(written)}{_clean(item['msg'])}")
    return Problem(written, f"{_where(written)}{_clean(item['msg'])}")


def _written_path(loc: Sequence[str | int], source: SourceMap) -> NodePath:
    """The part of `loc` that is written in the file (union tags skipped)."""
    path: NodePath = ()
    for segment in loc:
        if source.has((*path, segment)):
            path = (*path, segment)
    return path


def _type_node(path: NodePath, source: SourceMap) -> NodePath:
    return (*path, "type") if source.has((*path, "type")) else path


def _where(path: NodePath) -> str:
    shown = display_path(path)
    return f"{shown}: " if shown else ""


def display_path(path: NodePath) -> str:
    """`("workflow", "steps", 0, "provider")` -> `steps[0].provider`."""
    if path[:1] == (_ROOT_WRAPPER,) and len(path) > 1:
        path = path[1:]
    text = ""
    for segment in path:
        text += f"[{segment}]" if isinstance(segment, int) else f".{segment}"
    return text.lstrip(".")


def _yaml_kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value!r}"
    return type(value).__name__


def _clean(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _allowed_fields(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    current: Any = model
    for segment in loc:
        current = _step_into(current, segment)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(_field_spellings(current))
    return []


def _step_into(annotation: Any, segment: str | int) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        spellings = _field_spellings(annotation)
        name = spellings.get(str(segment))
        return annotation.model_fields[name].annotation if name else None
    members = _union_members(annotation)
    if members:
        return _union_member(members, segment)
    if get_origin(annotation) is list and isinstance(segment, int):
        return get_args(annotation)[0]
    return None


def _union_members(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return ()


def _union_member(members: tuple[Any, ...], segment: str | int) -> Any:
    concrete = [member for member in members if member is not type(None)]
    if len(concrete) == 1:
        return _step_into(concrete[0], segment)
    for member in concrete:  # a discriminated union: the segment is the tag
        if isinstance(member, type) and issubclass(member, BaseModel):
            tag_field = member.model_fields.get("type")
            if tag_field is not None and segment in get_args(tag_field.annotation):
                return member
    return None


def _field_spellings(model: type[BaseModel]) -> dict[str, str]:
    """How each field is written in YAML -> its attribute name."""
    spellings: dict[str, str] = {}
    for name, info in model.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, str):
            spellings[alias] = name
        elif isinstance(alias, AliasChoices):
            spellings.update({choice: name for choice in alias.choices if isinstance(choice, str)})
        else:
            spellings[name] = name
    return spellings
