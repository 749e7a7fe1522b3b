"""How plain values are typed and written as text, at authoring and at run time alike."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from typing import Literal

InputType = Literal["string", "number", "boolean", "object", "list"]
# bool is an int in Python: test it before number.
_TYPES_BY_SPECIFICITY: tuple[InputType, ...] = ("boolean", "number", "string", "object", "list")


def matches_input_type(input_type: InputType, value: object) -> bool:
    if input_type == "string":
        return isinstance(value, str)
    if input_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if input_type == "boolean":
        return isinstance(value, bool)
    if input_type == "object":
        return isinstance(value, Mapping)
    return isinstance(value, list | tuple)


def type_name(value: object) -> str:
    """The input-type word for a value, for messages ("got number")."""
    for candidate in _TYPES_BY_SPECIFICITY:
        if matches_input_type(candidate, value):
            return candidate
    return "null" if value is None else type(value).__name__


def text_form(value: object) -> str:
    """A scalar as text, the way YAML and JSON spell it (true, not True)."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def with_article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"
