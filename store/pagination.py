"""Opaque keyset cursors: base64 of the last row's (created_at, id)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from core.errors import InvalidInputError

INVALID_CURSOR = "cursor is not valid; pass next_cursor from a previous page unchanged"


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, row_id = json.loads(raw)
        position = datetime.fromisoformat(created_at)
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidInputError(INVALID_CURSOR) from error
    if position.tzinfo is None or not isinstance(row_id, str):
        raise InvalidInputError(INVALID_CURSOR)
    return position, row_id
