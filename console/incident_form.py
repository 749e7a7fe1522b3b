"""The create-incident dialog's form: the standard fields and the org's form fields, read
from what a browser posts (strings) into the values the incident service checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.form_schema import FieldType, FormField

STANDARD = ("title", "severity", "service", "description")
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


def enrichment_values(fields: Sequence[FormField], posted: Mapping[str, str]) -> dict[str, Any]:
    """Each form field's value as its type wants it; an empty one is left out (defaults
    and required checks are the service's)."""
    values: dict[str, Any] = {}
    for field in fields:
        raw = posted.get(field.name)
        if field.type == FieldType.CHECKBOX:
            values[field.name] = raw is not None
        elif raw not in (None, ""):
            values[field.name] = _number(raw) if field.type == FieldType.NUMBER else raw
    return values


def field_errors(problems: Sequence[tuple[tuple[str | int, ...], str]]) -> dict[str, str]:
    """The service's problems by field name (the last part of each path)."""
    return {str(location[-1]): message for location, message in problems}


def _number(raw: str) -> Any:
    try:
        number = float(raw)
    except ValueError:
        return raw  # the service says it must be a number
    return int(number) if number.is_integer() else number
