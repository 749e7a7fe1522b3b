"""`POST /v1/workflows/{id}/run`: manual runs on the real worker and Temporal server.

Temporal is shared by the whole session, so every test uses orgs of its own and looks
runs up by the FirelineOrg / FirelineWorkflow search attributes.
"""

from __future__ import annotations

import shutil
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from tests.conftest import REPO
from tests.platform.harness import Platform, eventually, make_settings, running_platform

TYPED = """
workflow:
  id: typed
  triggers:
    - type: manual
      inputs:
        - {name: message, type: string, required: true}
        - {name: count, type: number, required: true}
        - {name: urgent, type: boolean}
        - {name: team, type: string, default: sre}
  steps:
    - name: say
      provider:
        type: notify
        with:
          message: "{{ inputs.message }} x{{ inputs.count }}"
          title: "{{ inputs.team }}"
"""

ON_CREATE_ONLY = """
workflow:
  id: on-create
  triggers: [{type: incident, events: [created]}]
  steps:
    - name: hello
      provider: {type: notify, with: {message: "created {{ incident.title }}"}}
"""

NEEDS_SLACK = """
workflow:
  id: needs-slack
  triggers: [{type: manual}]
  steps:
    - name: post
      provider: {type: slack, config: "{{ providers.slack }}", with: {message: hi}}
"""

RUNNERS = "ORG_ADMIN, SRE_LEAD, ONCALL_ENGINEER"
# Runs of the shipped `announce` that must complete pass its optional `link`: without it
# the run fails (see test_notifications_stream.py::test_shipped_announce_runs_without_...).
STATUS_PAGE = "https://status.example.com"


@pytest.fixture
async def platform(tmp_path: Path, temporal_env: WorkflowEnvironment) -> AsyncIterator[Platform]:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    for name, body in (
        ("typed", TYPED),
        ("on-create", ON_CREATE_ONLY),
        ("needs-slack", NEEDS_SLACK),
    ):
        (workflows / f"{name}.yaml").write_text(textwrap.dedent(body))
    shutil.copy(REPO / "yaml_workflows" / "announce.yaml", workflows / "announce.yaml")
    settings = make_settings(tmp_path, temporal_env, workflows, {})
    async with running_platform(settings, temporal_env) as running:
        yield running


def new_org() -> str:
    return f"org{uuid.uuid4().hex[:10]}"


async def post_run(
    platform: Platform, workflow_id: str, body: dict[str, Any], org: str, *roles: str
) -> httpx.Response:
    return await platform.http.post(
        f"/v1/workflows/{workflow_id}/run", json=body, headers=platform.auth(org, *roles)
    )


async def temporal_runs(platform: Platform, org: str, workflow_id: str) -> set[str]:
    query = f"FirelineOrg='{org}' AND FirelineWorkflow='{workflow_id}'"
    return {w.id async for w in platform.client.list_workflows(query)}


async def last_runs(platform: Platform, org: str, workflow_id: str) -> list[dict[str, Any]]:
    response = await platform.http.get("/v1/workflows", headers=platform.auth(org))
    assert response.status_code == 200, response.text
    [entry] = [w for w in response.json() if w["id"] == workflow_id]
    result: list[dict[str, Any]] = entry["last_runs"]
    return result


async def assert_only_run_is(platform: Platform, org: str, workflow_id: str, run_id: str) -> None:
    """Start-order makes this exact: anything rejected earlier would be listed too."""
    await eventually(lambda: _listed(platform, org, workflow_id, run_id))
    assert await temporal_runs(platform, org, workflow_id) == {run_id}
    assert [r["run_id"] for r in await last_runs(platform, org, workflow_id)] == [run_id]


async def _listed(platform: Platform, org: str, workflow_id: str, run_id: str) -> bool:
    return run_id in await temporal_runs(platform, org, workflow_id)


async def start_sentinel(
    platform: Platform, org: str, workflow_id: str = "announce", **inputs: Any
) -> str:
    """A valid run started after a rejected request (it need not complete)."""
    body = {"inputs": inputs or {"message": "sentinel"}}
    response = await post_run(platform, workflow_id, body, org)
    assert response.status_code == 201, response.text
    run_id: str = response.json()["run_id"]
    return run_id


async def test_manual_run_starts_and_completes(platform: Platform) -> None:
    org = new_org()
    response = await post_run(
        platform, "announce", {"inputs": {"message": "Deploy freeze", "link": STATUS_PAGE}}, org
    )
    assert response.status_code == 201, response.text
    run = response.json()
    run_id = run["run_id"]
    prefix = f"{org}:manual:announce:"
    assert run_id.startswith(prefix) and len(run_id) > len(prefix)
    assert run["workflow_id"] == "announce"
    assert run["trigger"] == "manual"
    assert run["incident_id"] is None
    listed = (await platform.http.get("/v1/workflows", headers=platform.auth(org))).json()
    [announce] = [w for w in listed if w["id"] == "announce"]
    assert run["plan_hash"] == announce["plan_hash"]
    assert run["temporal_ui_url"].endswith(
        f"/namespaces/{platform.settings.temporal_namespace}/workflows/{quote(run_id, safe='')}"
    )
    assert run["temporal_ui_url"].startswith(platform.settings.resolved_temporal_ui_url)

    handle = platform.client.get_workflow_handle(run_id)
    await handle.result()
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    [shown] = await eventually(lambda: _completed_runs(platform, org, "announce"))
    assert shown["run_id"] == run_id
    [note] = await platform.notifications(org)
    assert note["message"] == "Deploy freeze"
    assert note["source"] == run_id
    await assert_only_run_is(platform, org, "announce", run_id)


async def _completed_runs(platform: Platform, org: str, workflow_id: str) -> list[dict[str, Any]]:
    runs = await last_runs(platform, org, workflow_id)
    return runs if runs and all(r["status"] == "COMPLETED" for r in runs) else []


async def test_typed_inputs_reach_the_run_with_defaults(platform: Platform) -> None:
    org = new_org()
    body = {"inputs": {"message": "scale up", "count": 3, "urgent": True}}
    response = await post_run(platform, "typed", body, org, "ONCALL_ENGINEER")
    assert response.status_code == 201, response.text
    await platform.client.get_workflow_handle(response.json()["run_id"]).result()
    [note] = await platform.notifications(org)
    assert note["message"] == "scale up x3"
    assert note["title"] == "sre"


async def test_missing_required_input_is_422_and_starts_nothing(platform: Platform) -> None:
    org = new_org()
    response = await post_run(platform, "announce", {"inputs": {}}, org)
    assert response.status_code == 422
    assert "missing required input 'message'" in response.json()["detail"]
    assert await last_runs(platform, org, "announce") == []
    await assert_only_run_is(platform, org, "announce", await start_sentinel(platform, org))


async def test_wrong_input_types_are_422_naming_each_field(platform: Platform) -> None:
    org = new_org()
    body = {"inputs": {"message": "hi", "count": "abc", "urgent": "yes"}}
    response = await post_run(platform, "typed", body, org)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "input 'count' must be a number, got string" in detail
    assert "input 'urgent' must be a boolean, got string" in detail

    response = await post_run(platform, "typed", {"inputs": {"message": "hi", "count": True}}, org)
    assert response.status_code == 422
    assert "input 'count' must be a number, got boolean" in response.json()["detail"]
    assert await last_runs(platform, org, "typed") == []
    sentinel = await start_sentinel(platform, org, "typed", message="ok", count=1)
    await assert_only_run_is(platform, org, "typed", sentinel)


async def test_unknown_input_is_422_listing_the_known_ones(platform: Platform) -> None:
    org = new_org()
    body = {"inputs": {"message": "hi", "count": 1, "colour": "red"}}
    response = await post_run(platform, "typed", body, org)
    assert response.status_code == 422
    assert (
        "unknown input 'colour' (known: message, count, urgent, team)" in response.json()["detail"]
    )
    assert await last_runs(platform, org, "typed") == []
    sentinel = await start_sentinel(platform, org, "typed", message="ok", count=1)
    await assert_only_run_is(platform, org, "typed", sentinel)


async def test_extra_body_field_is_422(platform: Platform) -> None:
    org = new_org()
    body = {"inputs": {"message": "hi"}, "priority": "high"}
    response = await post_run(platform, "announce", body, org)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "priority"]
    assert error["type"] == "extra_forbidden"
    await assert_only_run_is(platform, org, "announce", await start_sentinel(platform, org))


async def test_unknown_workflow_is_404(platform: Platform) -> None:
    response = await post_run(platform, "no-such-workflow", {"inputs": {}}, new_org())
    assert response.status_code == 404
    assert "no-such-workflow" in response.json()["detail"]


async def test_workflow_without_manual_trigger_is_422(platform: Platform) -> None:
    org = new_org()
    response = await post_run(platform, "on-create", {"inputs": {}}, org)
    assert response.status_code == 422
    assert response.json()["detail"] == "workflow 'on-create' has no manual trigger"
    assert await temporal_runs(platform, org, "on-create") == set()


async def test_inactive_workflow_is_422_with_the_reason(platform: Platform) -> None:
    org = new_org()
    response = await post_run(platform, "needs-slack", {"inputs": {}}, org)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "workflow 'needs-slack' is inactive" in detail
    assert "slack" in detail.split("inactive:", 1)[1]
    assert await temporal_runs(platform, org, "needs-slack") == set()


@pytest.mark.parametrize("role", ["VIEWER", "ANALYST"])
async def test_roles_that_cannot_run_get_403_naming_the_allowed_roles(
    platform: Platform, role: str
) -> None:
    org = new_org()
    response = await post_run(platform, "announce", {"inputs": {"message": "hi"}}, org, role)
    assert response.status_code == 403
    assert response.json()["detail"] == f"requires one of the roles: {RUNNERS}"
    await assert_only_run_is(platform, org, "announce", await start_sentinel(platform, org))


async def test_running_needs_a_token(platform: Platform) -> None:
    response = await platform.http.post(
        "/v1/workflows/announce/run", json={"inputs": {"message": "hi"}}
    )
    assert response.status_code == 401


async def test_incident_of_another_org_is_404_and_starts_nothing(platform: Platform) -> None:
    org, other = new_org(), new_org()
    foreign = await platform.create_incident(org=other, title="not yours")
    body = {"inputs": {"message": "hi"}, "incident_id": foreign["id"]}
    response = await post_run(platform, "announce", body, org)
    assert response.status_code == 404
    assert response.json()["detail"] == f"incident {foreign['id']} not found"
    await assert_only_run_is(platform, org, "announce", await start_sentinel(platform, org))
    assert await temporal_runs(platform, other, "announce") == set()
    about_foreign = f"FirelineIncidentId='{foreign['id']}' AND FirelineWorkflow='announce'"
    assert await _ids(platform, about_foreign) == set()


async def test_run_about_an_own_incident_is_linked_to_it(platform: Platform) -> None:
    org = new_org()
    incident = await platform.create_incident(org=org, title="db down")
    body = {
        "inputs": {"message": "looking into it", "link": STATUS_PAGE},
        "incident_id": incident["id"],
    }
    response = await post_run(platform, "announce", body, org)
    assert response.status_code == 201, response.text
    run_id = response.json()["run_id"]
    assert response.json()["incident_id"] == incident["id"]
    await platform.client.get_workflow_handle(run_id).result()

    query = f"FirelineIncidentId='{incident['id']}' AND FirelineWorkflow='announce'"
    found = await eventually(lambda: _ids(platform, query))  # visibility catches up asynchronously
    assert found == {run_id}
    runs = await platform.http.get(
        f"/v1/incidents/{incident['id']}/runs", headers=platform.auth(org)
    )
    assert run_id in [r["run_id"] for r in runs.json()]
    notes = await platform.notifications(org)
    [note] = [n for n in notes if n["source"] == run_id]
    assert note["incident_id"] == incident["id"]


async def _ids(platform: Platform, query: str) -> set[str]:
    return {w.id async for w in platform.client.list_workflows(query)}


async def test_listed_last_runs_are_only_the_callers_org(platform: Platform) -> None:
    org, other = new_org(), new_org()
    response = await post_run(
        platform, "announce", {"inputs": {"message": "mine", "link": STATUS_PAGE}}, org
    )
    assert response.status_code == 201, response.text
    run_id = response.json()["run_id"]
    await platform.client.get_workflow_handle(run_id).result()

    assert [r["run_id"] for r in await last_runs(platform, org, "announce")] == [run_id]
    other_view = (await platform.http.get("/v1/workflows", headers=platform.auth(other))).json()
    assert other_view, "the other org still sees the loaded workflows"
    assert all(w["last_runs"] == [] for w in other_view)
    assert run_id not in str(other_view)
