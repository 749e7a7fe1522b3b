"""The form builder's draft: the org's form as rows of the strings a browser posts, the
builder's edits on those rows (add, remove, move), and the rows read back into fields.

The draft lives in the page itself (every button posts the whole form), so nothing is
saved until the admin presses Save, and a half-built form never reaches the service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from services.form_schema import FieldType, FormField

Row = dict[str, str]
KEYS = (
    "name",
    "label",
    "type",
    "description",
    "required",
    "default_value",
    "options",
    "placeholder",
    "max_length",
    "min_value",
    "max_value",
)
MAX_ROWS = 50


def rows_of(fields: Sequence[FormField]) -> list[Row]:
    return [_row_of(field) for field in fields]


def posted_rows(posted: Mapping[str, str]) -> list[Row]:
    """The rows as posted: `f<index>.<key>` for each of `count` rows."""
    count = min(_int(posted.get("count")), MAX_ROWS)
    return [{key: posted.get(f"f{i}.{key}", "") for key in KEYS} for i in range(count)]


def edited(rows: list[Row], action: str) -> list[Row]:
    """The rows after one of the builder's buttons: add, remove:<i>, up:<i>, down:<i>."""
    verb, _, at = action.partition(":")
    index = _int(at)
    rows = list(rows)
    if verb == "add" and len(rows) < MAX_ROWS:
        rows.append({key: "" for key in KEYS} | {"type": FieldType.TEXT.value})
    elif verb == "remove" and 0 <= index < len(rows):
        del rows[index]
    elif verb in ("up", "down"):
        other = index - 1 if verb == "up" else index + 1
        if 0 <= index < len(rows) and 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
    return rows


def fields_of(rows: Sequence[Row]) -> tuple[list[FormField], dict[str, str]]:
    """The rows as fields, and every problem keyed `<index>.<key>` for the row's input."""
    fields: list[FormField] = []
    errors: dict[str, str] = {}
    for index, row in enumerate(rows):
        try:
            fields.append(FormField.model_validate(_values(row)))
        except ValidationError as invalid:
            for error in invalid.errors():
                key = str(error["loc"][0]) if error["loc"] else "name"
                errors.setdefault(f"{index}.{key}", error["msg"])
    return fields, errors


def service_errors(problems: Sequence[tuple[tuple[str | int, ...], str]]) -> dict[str, str]:
    """The form service's problems, at ("body", "fields", index, key), keyed as above."""
    errors: dict[str, str] = {}
    for location, message in problems:
        if len(location) >= 4 and location[1] == "fields":
            errors.setdefault(f"{location[2]}.{location[3]}", message)
        else:
            errors.setdefault(str(location[-1]), message)
    return errors


def _values(row: Row) -> dict[str, Any]:
    values: dict[str, Any] = {
        key: row[key].strip() for key in KEYS if row.get(key, "").strip() and key != "required"
    }
    values["required"] = bool(row.get("required"))
    if "options" in values:
        values["options"] = [
            line.strip() for line in values["options"].splitlines() if line.strip()
        ]
    if "default_value" in values:
        values["default_value"] = _default(row.get("type", ""), values["default_value"])
    return values


def _default(field_type: str, raw: str) -> Any:
    if field_type == FieldType.CHECKBOX:
        return raw.lower() in ("true", "yes", "on", "1")
    if field_type == FieldType.NUMBER:
        try:
            number = float(raw)
        except ValueError:
            return raw  # the service says it must be a number
        return int(number) if number.is_integer() else number
    return raw


def _row_of(field: FormField) -> Row:
    row = {key: _text(getattr(field, key)) for key in KEYS}
    row["type"] = field.type.value
    row["options"] = "\n".join(field.options or [])
    row["required"] = "on" if field.required else ""
    return row


def _text(value: Any) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "true"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _int(raw: str | None) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        return -1
