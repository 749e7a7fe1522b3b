"""Sending vendor fixtures to a running platform, and counting what they started."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from store import outbox, runs
from store.db import Database
from tests.conftest import FIXTURES
from tests.platform.harness import Platform, eventually

# Starts one run per incident event that can trigger workflows, so the runs count them.
COUNT_TRIGGERS = """
workflow:
  id: count-triggers
  triggers:
    - type: incident
      events: [created, updated, status_changed, severity_changed, resolved]
  steps:
    - name: record
      provider: {type: notify, with: {message: "{{ incident.status }}"}}
"""


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def all_fixture_names() -> set[str]:
    return {path.name for path in Path(FIXTURES).glob("*.json")}


def pagerduty_signature(secret: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def hook_url(platform: Platform, source: str, org: str = "acme") -> str:
    response = await platform.http.get(f"/v1/webhooks/{source}/config", headers=platform.auth(org))
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


async def configure(platform: Platform, source: str, org: str = "acme", **body: Any) -> str:
    response = await platform.http.put(
        f"/v1/webhooks/{source}/config", json=body, headers=platform.auth(org)
    )
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


async def deliver(
    http: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await http.post(
        url, content=body, headers={"Content-Type": "application/json", **(headers or {})}
    )


async def all_dispatched(db: Database) -> None:
    async def nothing_pending() -> bool:
        async with db.read_session() as session:
            return not await outbox.pending(session, limit=1)

    await eventually(nothing_pending)


async def runs_by_event(db: Database, org: str, incident_id: str) -> Counter[int]:
    """How many runs each incident event (by seq) started, once all are dispatched."""
    await all_dispatched(db)
    async with db.read_session() as session:
        started = await runs.runs_for_incident(session, org, incident_id)
    return Counter(run.event_seq for run in started if run.event_seq is not None)
