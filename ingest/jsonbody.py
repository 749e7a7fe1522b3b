"""Read a request body as JSON, with an error a caller can act on for each way it fails."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, NoReturn

from core.errors import BadRequestError, UnsupportedMediaTypeError

DEFAULT_MAX_DEPTH = 32

# A whole JSON string (escapes included) or one bracket: brackets inside strings are skipped.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset("[{")


def parse_json(
    body: bytes,
    content_type: str | None,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    source: str = "the request body",
) -> Any:
    """The decoded JSON value of `body`.

    UnsupportedMediaTypeError when the content type is not JSON; BadRequestError when the
    body is empty, not UTF-8, not JSON, nested deeper than `max_depth`, or uses NaN/Infinity.
    Messages start with `source` ("the request body", "the file"...).
    """
    check_json_content_type(content_type)
    text = _decode_utf8(body, source)
    if not text.strip():
        raise BadRequestError(f"{source} is empty; send a JSON object")
    _check_depth(text, max_depth, source)
    try:
        return json.loads(
            text, parse_constant=_constant_refuser(source), parse_float=_finite_float(source)
        )
    except json.JSONDecodeError as err:
        raise BadRequestError(f"{source} is not valid JSON: {err}") from None
    except RecursionError:
        raise _too_deep(max_depth, source) from None


def check_json_content_type(content_type: str | None) -> None:
    """Accept application/json and application/*+json (any parameters, any case)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        return
    received = f"Content-Type is {media_type!r}" if media_type else "no Content-Type was sent"
    raise UnsupportedMediaTypeError(
        f"{received}; send the body as JSON with the header `Content-Type: application/json` "
        "(curl -d sends application/x-www-form-urlencoded unless you add "
        "-H 'Content-Type: application/json')"
    )


def _decode_utf8(body: bytes, source: str) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadRequestError(
            f"{source} is not UTF-8: invalid byte 0x{body[err.start]:02x} at byte "
            f"offset {err.start}; JSON must be UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def _check_depth(text: str, max_depth: int, source: str) -> None:
    """Count container nesting before parsing, so a deep body never reaches the parser."""
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot be deeper than the number of brackets it has
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in _OPENERS:
            depth += 1
            if depth > max_depth:
                raise _too_deep(max_depth, source)
        elif token in ("]", "}"):
            depth -= 1


def _too_deep(max_depth: int, source: str) -> BadRequestError:
    return BadRequestError(
        f"{source} is nested more than {max_depth} levels deep (objects and arrays); flatten it"
    )


def _constant_refuser(source: str) -> Callable[[str], NoReturn]:
    def refuse(name: str) -> NoReturn:
        raise BadRequestError(
            f"{source} contains {name}, which JSON does not allow; send null or a string"
        )

    return refuse


def _finite_float(source: str) -> Callable[[str], float]:
    def parse(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            raise BadRequestError(f"{source} contains the number {literal[:40]}, out of range")
        return value

    return parse
