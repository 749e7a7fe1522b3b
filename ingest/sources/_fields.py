"""Tolerant reads from a vendor's JSON: dotted paths, loose types, times in many forms.

Vendors send numbers as strings and strings as numbers; every reader here accepts both
and returns None for what is absent, empty or unusable, so a mapping never crashes on a
field it only uses for enrichment. Required fields go through `Shape` instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ingest.sources.base import PayloadShapeError

# A whole value that is a template variable nobody filled in: Zabbix "{EVENT.ID}" or
# "{$ZABBIX.URL}", Datadog "$ALERT_CYCLE_KEY".
_PLACEHOLDER = re.compile(r"^(?:\{\$?[A-Z][A-Z0-9_.]*\}|\$[A-Z][A-Z0-9_]*)$")


def get(obj: Any, path: str) -> Any:
    """The value at a dotted path of nested objects, None when any step is missing."""
    for key in path.split("."):
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def as_text(value: Any) -> str | None:
    """A non-empty stripped string; numbers become their decimal text; anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def text(obj: Any, path: str) -> str | None:
    return as_text(get(obj, path))


def first_text(obj: Any, *paths: str) -> str | None:
    """The first of `paths` that holds usable text."""
    for path in paths:
        value = text(obj, path)
        if value is not None:
            return value
    return None


def expanded(value: str | None) -> str | None:
    """`value`, or None when it is an unexpanded template variable."""
    if value is None or _PLACEHOLDER.match(value):
        return None
    return value


def mapping(obj: Any, path: str) -> dict[str, Any]:
    value = get(obj, path)
    return dict(value) if isinstance(value, Mapping) else {}


def items(obj: Any, path: str) -> list[Any]:
    value = get(obj, path)
    return list(value) if isinstance(value, list) else []


def texts(obj: Any, path: str, key: str | None = None) -> list[str]:
    """The usable texts of a list, or of one key in each object of a list."""
    found = [as_text(get(item, key) if key else item) for item in items(obj, path)]
    return [value for value in found if value is not None]


def as_bool(value: Any) -> bool | None:
    """true/false given as a JSON boolean or as the strings "true"/"false" (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def iso_time(value: Any) -> datetime | None:
    """An ISO 8601 time (naive means UTC); None for Go's zero time "0001-01-01T00:00:00Z"."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.year <= 1:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def epoch_time(value: Any, *, milliseconds: bool) -> datetime | None:
    """A Unix time in seconds or milliseconds, given as a number or a numeric string."""
    number: float | None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        number = _float(as_text(value))
    if number is None or number <= 0:
        return None
    try:
        return datetime.fromtimestamp(number / 1000 if milliseconds else number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def require_object(source: str, payload: Any) -> dict[str, Any]:
    """The body as an object, or a shape error saying it is not one."""
    if not isinstance(payload, Mapping):
        raise PayloadShapeError(source, [f"$: expected a JSON object, got {_json_type(payload)}"])
    return dict(payload)


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def required_texts(source: str, body: dict[str, Any], *paths: str) -> list[str]:
    """The texts at `paths`, or one shape error naming every one that is unusable."""
    shape = Shape(source)
    found = [shape.text(body, path) for path in paths]
    shape.check()
    return [value or "" for value in found]


class Shape:
    """Collects every problem of a payload, so one error names all of them."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def text(self, obj: Any, path: str, *, where: str = "") -> str | None:
        """A required string (numbers accepted); records "<where><path>: ..." when unusable."""
        value = get(obj, path)
        found = as_text(value)
        if found is None:
            blank = value is None or isinstance(value, str)
            self.add(f"{where}{path}: {'missing' if blank else 'expected a string'}")
        return found

    def object(self, obj: Any, path: str, *, where: str = "") -> dict[str, Any] | None:
        value = get(obj, path)
        if isinstance(value, Mapping):
            return dict(value)
        self.add(f"{where}{path}: {'missing' if value is None else 'expected an object'}")
        return None

    def array(self, obj: Any, path: str, *, where: str = "") -> list[Any] | None:
        value = get(obj, path)
        if isinstance(value, list):
            return value
        self.add(f"{where}{path}: {'missing' if value is None else 'expected a list'}")
        return None

    def check(self) -> None:
        if self.problems:
            raise PayloadShapeError(self.source, self.problems)
