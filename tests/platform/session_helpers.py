"""What tests of runbook sessions over HTTP share: runbooks written into the platform's
workflows directory and reloaded, sessions started over HTTP, and polling for a status."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from temporalio.client import WorkflowExecutionStatus

from tests.platform.harness import Platform, eventually

STARTERS = ("ORG_ADMIN", "SRE_LEAD", "ONCALL_ENGINEER")


def new_org() -> str:
    """Temporal is shared by the whole test session: every test uses orgs of its own."""
    return f"org{uuid.uuid4().hex[:10]}"


def write_runbook(platform: Platform, name: str, body: str, **placeholders: str) -> Path:
    """Write `body` as <workflows_dir>/<name>.yaml; `@KEY@` becomes placeholders[key]."""
    text = textwrap.dedent(body).lstrip("\n")
    for key, value in placeholders.items():
        text = text.replace(f"@{key.upper()}@", value)
    path = platform.settings.workflows_dir / f"{name}.yaml"
    path.write_text(text)
    return path


async def reload(platform: Platform) -> dict[str, Any]:
    response = await platform.http.post("/v1/workflows/reload", headers=platform.auth("admin"))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def add_runbook(platform: Platform, name: str, body: str, **placeholders: str) -> None:
    """Write a runbook and reload; it must compile without errors."""
    write_runbook(platform, name, body, **placeholders)
    await reload(platform)
    response = await platform.http.get(f"/v1/runbooks/{name}", headers=platform.auth("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["errors"] == [], response.json()["errors"]


def session_path(session_id: str, suffix: str = "") -> str:
    return f"/v1/sessions/{quote(session_id, safe=':')}{suffix}"


async def start_session(
    platform: Platform,
    org: str,
    incident_id: str,
    runbook_id: str,
    *,
    inputs: dict[str, Any] | None = None,
    connection: str | None = None,
    roles: tuple[str, ...] = ("ONCALL_ENGINEER",),
) -> httpx.Response:
    body: dict[str, Any] = {"inputs": inputs or {}}
    if connection is not None:
        body["connection"] = connection
    return await platform.http.post(
        f"/v1/incidents/{incident_id}/runbooks/{runbook_id}/execute",
        json=body,
        headers=platform.auth(org, *roles),
    )


async def started(
    platform: Platform, org: str, incident_id: str, runbook_id: str, **kw: Any
) -> dict[str, Any]:
    response = await start_session(platform, org, incident_id, runbook_id, **kw)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def get_session(platform: Platform, org: str, session_id: str) -> dict[str, Any]:
    response = await platform.http.get(
        session_path(session_id), headers=platform.auth(org, "VIEWER")
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def wait_for_status(
    platform: Platform,
    org: str,
    session_id: str,
    statuses: str | Collection[str],
    timeout: float = 60.0,
) -> dict[str, Any]:
    """GET the session until its status is one of `statuses` and its run has closed (the
    state says `completed` a moment before the workflow returns); the last state on failure."""
    wanted = {statuses} if isinstance(statuses, str) else set(statuses)
    last: dict[str, Any] = {}

    async def probe() -> dict[str, Any] | None:
        nonlocal last
        last = await get_session(platform, org, session_id)
        closed = last["temporal_status"] != "RUNNING"
        return last if last["status"] in wanted and closed else None

    try:
        result: dict[str, Any] = await eventually(probe, timeout)
    except AssertionError:
        raise AssertionError(
            f"session never reached {sorted(wanted)}; last state: {last}"
        ) from None
    return result


async def wait_for_pending(
    platform: Platform, org: str, session_id: str, step: str
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        state = await get_session(platform, org, session_id)
        pending = state.get("pending")
        return state if pending and pending["step"] == step else None

    result: dict[str, Any] = await eventually(probe)
    return result


async def set_execution_mode(
    platform: Platform, org: str, mode: str, threshold: float | None = None
) -> None:
    body: dict[str, Any] = {"mode": mode}
    if threshold is not None:
        body["auto_threshold"] = threshold
    response = await platform.http.put(
        "/v1/settings/execution-mode", json=body, headers=platform.auth(org, "ORG_ADMIN")
    )
    assert response.status_code == 200, response.text


async def list_sessions(platform: Platform, org: str, **params: Any) -> list[dict[str, Any]]:
    response = await platform.http.get(
        "/v1/sessions", params=params, headers=platform.auth(org, "VIEWER")
    )
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def is_closed(platform: Platform, session_id: str) -> bool:
    status = (await platform.client.get_workflow_handle(session_id).describe()).status
    return status not in (None, WorkflowExecutionStatus.RUNNING)
