"""Opaque keyset cursors: base64 of the sort's name and the last row's sort-key values."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.errors import InvalidInputError

INVALID_CURSOR = "cursor is not valid; pass next_cursor from a previous page unchanged"


def encode_cursor(sort: str, values: Sequence[Any]) -> str:
    wire = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    raw = json.dumps([sort, wire]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, kinds: Sequence[type]) -> list[Any]:
    """The values of a cursor made for `sort`, each of the type in `kinds`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, wire = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidInputError(INVALID_CURSOR) from error
    if made_for != sort:
        raise InvalidInputError(
            f"cursor was made for sort={made_for}, not sort={sort}; "
            "keep the same sort while paging, or start again without a cursor"
        )
    try:
        return [_typed(value, kind) for value, kind in zip(wire, kinds, strict=True)]
    except (ValueError, TypeError) as error:
        raise InvalidInputError(INVALID_CURSOR) from error


def _typed(value: Any, kind: type) -> Any:
    if kind is datetime:
        position = datetime.fromisoformat(value)
        if position.tzinfo is None:
            raise ValueError("cursor time has no zone")
        return position
    if not isinstance(value, kind):
        raise TypeError(f"cursor value {value!r} is not {kind.__name__}")
    return value
