"""An org's incident form: its fields, the rules a form must keep, and checking values.

Pure: no I/O. `schema_problems` finds what is wrong with a form, `checked_values` what is
wrong with the values a person entered, each as (field path, message) pairs that the API
answers with as one 422 list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.errors import FieldErrors

Problem = tuple[tuple[str | int, ...], str]
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_FIELDS = 50


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    SELECT = "select"
    CHECKBOX = "checkbox"
    RADIO = "radio"
    NUMBER = "number"
    DATE = "date"


CHOICE_TYPES = frozenset({FieldType.SELECT, FieldType.RADIO})
TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.TEXTAREA})
Finite = Annotated[float, Field(allow_inf_nan=False)]


class FormField(BaseModel):
    """One field; its `name` becomes the enrichment key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    type: FieldType
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    required: bool = False
    default_value: Any = None
    options: (
        Annotated[list[Annotated[str, StringConstraints(max_length=200)]], Field(max_length=200)]
        | None
    ) = None
    placeholder: Annotated[str, StringConstraints(max_length=200)] | None = None
    max_length: Annotated[int, Field(ge=1, le=100_000)] | None = None
    min_value: Finite | None = None
    max_value: Finite | None = None


class FormSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    fields: Annotated[list[FormField], Field(max_length=MAX_FIELDS)]


def schema_problems(fields: Sequence[FormField]) -> list[Problem]:
    """Every rule the fields break, each at ("body", "fields", index, key)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, field in enumerate(fields):
        at = ("body", "fields", index)
        if not FIELD_NAME.fullmatch(field.name):
            problems.append(
                ((*at, "name"), "must match ^[a-z][a-z0-9_]*$ (it becomes an enrichment key)")
            )
        elif field.name in seen:
            problems.append(((*at, "name"), f"'{field.name}' is used by an earlier field"))
        seen.add(field.name)
        problems += [((*at, key), message) for key, message in _field_problems(field)]
    return problems


def _field_problems(field: FormField) -> list[tuple[str, str]]:
    problems = _misplaced_keys(field)
    if field.type in CHOICE_TYPES:
        if not field.options:
            problems.append(("options", f"a {field.type} field needs at least one option"))
        elif len(set(field.options)) != len(field.options):
            problems.append(("options", "options must be unique"))
    low, high = field.min_value, field.max_value
    if low is not None and high is not None and low > high:
        problems.append(("min_value", f"min_value {low:g} is above max_value {high:g}"))
    if field.default_value is not None and not problems:
        problem = value_problem(field, field.default_value)
        if problem:
            problems.append(("default_value", problem))
    return problems


def _misplaced_keys(field: FormField) -> list[tuple[str, str]]:
    """Keys that the field's type ignores: a likely mistake, never silently dropped."""
    allowed = {
        "options": CHOICE_TYPES,
        "max_length": TEXT_TYPES,
        "min_value": {FieldType.NUMBER},
        "max_value": {FieldType.NUMBER},
    }
    return [
        (key, f"{key} does not apply to a {field.type} field")
        for key, types in allowed.items()
        if getattr(field, key) is not None and field.type not in types
    ]


def value_problem(field: FormField, value: Any) -> str | None:
    """What is wrong with `value` for `field`, or None when it is acceptable."""
    if field.type in TEXT_TYPES:
        if not isinstance(value, str):
            return "must be text"
        if field.max_length is not None and len(value) > field.max_length:
            return f"must be at most {field.max_length} characters, got {len(value)}"
    elif field.type in CHOICE_TYPES:
        if value not in (field.options or []):
            return f"must be one of {', '.join(field.options or [])}"
    elif field.type == FieldType.CHECKBOX:
        if not isinstance(value, bool):
            return "must be true or false"
    elif field.type == FieldType.NUMBER:
        return _number_problem(field, value)
    elif field.type == FieldType.DATE:
        return _date_problem(value)
    return None


def _number_problem(field: FormField, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "must be a number"
    if field.min_value is not None and value < field.min_value:
        return f"must be at least {field.min_value:g}"
    if field.max_value is not None and value > field.max_value:
        return f"must be at most {field.max_value:g}"
    return None


def _date_problem(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) != len("2026-01-31"):
        return "must be an ISO 8601 date, YYYY-MM-DD"
    try:
        date.fromisoformat(value)
    except ValueError:
        return f"'{value}' is not a date (YYYY-MM-DD)"
    return None


def checked_values(fields: Sequence[FormField], values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with the form's defaults filled in, or FieldErrors naming every bad field.

    Keys the form does not know are kept as they are: workflows add their own enrichments.
    A null value counts as left out.
    """
    result = {key: value for key, value in values.items() if value is not None}
    problems: list[Problem] = []
    for field in fields:
        if field.name not in result and field.default_value is not None:
            result[field.name] = field.default_value
        at = ("body", "enrichments", field.name)
        if field.name not in result or result[field.name] == "":
            if field.required:
                problems.append((at, f"'{field.label}' is required"))
            result.pop(field.name, None)
            continue
        problem = value_problem(field, result[field.name])
        if problem:
            problems.append((at, f"'{field.label}' {problem}"))
    if problems:
        raise FieldErrors(problems)
    return result


def json_schema(schema: FormSchema | None) -> dict[str, Any]:
    """The enrichments object as JSON Schema (2020-12); without a form, any object."""
    document: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": True,
    }
    if schema is None:
        return {**document, "title": "Incident enrichments", "properties": {}}
    return {
        **document,
        "title": schema.name,
        **({"description": schema.description} if schema.description else {}),
        "properties": {field.name: _property(field) for field in schema.fields},
        "required": [field.name for field in schema.fields if field.required],
    }


_JSON_TYPE = {
    FieldType.TEXT: "string",
    FieldType.TEXTAREA: "string",
    FieldType.SELECT: "string",
    FieldType.RADIO: "string",
    FieldType.CHECKBOX: "boolean",
    FieldType.NUMBER: "number",
    FieldType.DATE: "string",
}


def _property(field: FormField) -> dict[str, Any]:
    extra = {
        "enum": field.options if field.type in CHOICE_TYPES else None,
        "format": "date" if field.type == FieldType.DATE else None,
        "maxLength": field.max_length,
        "minimum": field.min_value,
        "maximum": field.max_value,
        "default": field.default_value,
        "description": field.description,
    }
    return {
        "type": _JSON_TYPE[field.type],
        "title": field.label,
        "x-fireline-input": field.type.value,
        **{key: value for key, value in extra.items() if value is not None},
    }
