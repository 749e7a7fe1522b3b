"""Durations as authors write them: 500ms, 30s, 2m, 1h, 1d, 1h30m, or plain seconds."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")
_EXAMPLES = "a number of seconds or a duration such as 500ms, 30s, 2m, 1h, 1d"


def parse_duration(value: object) -> float:
    """Seconds in `value`; ValueError with a readable message when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(f"expected {_EXAMPLES}, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected {_EXAMPLES}, got {type(value).__name__}")
    text = value.strip().lower()
    try:
        return float(text)
    except ValueError:
        pass
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"invalid duration {value!r}: use {_EXAMPLES}")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(text))
