"""Turn store rows into plain JSON values for workflow inputs and responses."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

_ANY = TypeAdapter(Any)


def jsonable(value: Any) -> dict[str, Any]:
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    result = _ANY.dump_python(value, mode="json")
    if not isinstance(result, dict):
        raise TypeError(f"expected a mapping, got {type(result).__name__}")
    return result
