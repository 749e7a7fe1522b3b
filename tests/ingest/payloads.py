"""Vendor fixtures for the mapping tests: loading, rewriting an id, mapping."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.model import GenericIncident
from ingest.sources import Delivery, map_delivery
from tests.conftest import FIXTURES

RECEIVED_AT = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)
LATER = datetime(2032, 1, 1, tzinfo=UTC)


def all_fixture_names() -> set[str]:
    return {path.name for path in Path(FIXTURES).glob("*.json")}


def source_of(name: str) -> str:
    """The webhook source a fixture belongs to: the first part of its file name."""
    return name.split("-", 1)[0]


def load(name: str) -> Any:
    loaded: Any = json.loads((FIXTURES / name).read_text())
    return loaded


def with_value(payload: Any, path: str, value: Any) -> Any:
    """A copy of `payload` with the dotted `path` set to `value` (list indexes allowed)."""
    changed = copy.deepcopy(payload)
    parent, key = _parent(changed, path)
    parent[key] = value
    return changed


def without(payload: Any, path: str) -> Any:
    """A copy of `payload` without the dotted `path`."""
    changed = copy.deepcopy(payload)
    parent, key = _parent(changed, path)
    del parent[key]
    return changed


def _parent(payload: Any, path: str) -> tuple[Any, Any]:
    *parents, last = path.split(".")
    target = payload
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    return target, int(last) if isinstance(target, list) else last


def deliver(
    source: str,
    payload: Any,
    *,
    headers: dict[str, str] | None = None,
    received_at: datetime = RECEIVED_AT,
) -> Delivery:
    return map_delivery(source, payload, headers or {}, received_at)


def map_one(source: str, payload: Any, **options: Any) -> GenericIncident:
    """The single incident a delivery maps to."""
    incidents = deliver(source, payload, **options).incidents
    assert len(incidents) == 1, incidents
    return incidents[0]


def map_file(name: str, **options: Any) -> Delivery:
    return deliver(source_of(name), load(name), **options)
