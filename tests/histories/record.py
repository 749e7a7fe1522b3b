"""Regenerate the recorded histories: `python -m tests.histories.record`.

Each `*.json` here is the Temporal history of one run of a shipped YAML workflow, the
triage workflows, a shipped runbook or a branch of the session workflow, recorded with
the real worker and its real activities against fake Jira, ServiceNow, Slack and a flag
service. `test_replay.py` replays every one against today's workflow code, so a change
that would break runs in flight fails CI. Re-record only for a change that is meant to
be incompatible, and ship it the way docs/production.md describes (a new task queue, or
`workflow.patched`). A `workflow.patched` change keeps a history of the old branch in
`patched/`, which re-recording leaves alone: runs started before the change still replay
that way.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.processes import start_temporal
from tests.conftest import REPO, VENV_BIN
from tests.fakes.jira_server import FakeJira
from tests.fakes.servicenow_server import FakeServiceNow
from tests.fakes.slack_server import FakeSlack
from tests.histories.session_scenarios import record_sessions
from tests.platform.harness import Platform, eventually, make_settings, running_platform

HISTORIES = Path(__file__).parent
PATCHED = HISTORIES / "patched"  # old branches of patched workflows, never re-recorded
STATUS_PAGE = "https://status.example.com"


async def main() -> None:
    for old in HISTORIES.glob("*.json"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="fireline-histories-") as scratch:
        print("platform runs (dev server, fake Jira, ServiceNow and Slack):", flush=True)
        await record_platform(Path(scratch) / "platform")
        print("runbook sessions (time-skipping server):", flush=True)
        await record_session_runs(Path(scratch) / "sessions")
    print(f"{len(list(HISTORIES.glob('*.json')))} histories written to {HISTORIES}")


async def record_platform(scratch: Path) -> None:
    env = await start_temporal()
    try:
        with FakeJira() as jira, FakeServiceNow() as servicenow, FakeSlack() as slack:
            workflows = scratch / "yaml_workflows"
            shutil.copytree(REPO / "yaml_workflows", workflows)
            providers = {
                "jira": {
                    "type": "jira",
                    "authentication": {
                        "url": jira.url,
                        "email": FakeJira.USER,
                        "api_token": FakeJira.API_TOKEN,
                    },
                },
                "servicenow": {
                    "type": "servicenow",
                    "authentication": {
                        "service_now_base_url": servicenow.url,
                        "username": servicenow.USER,
                        "password": servicenow.PASSWORD,
                    },
                },
                "slack": {"type": "slack", "authentication": {"webhook_url": slack.webhook_url}},
            }
            settings = make_settings(scratch, env, workflows, providers, triage=True)
            async with running_platform(settings, env) as platform:
                await platform_story(platform)
                for run in await all_closed(env.client, settings.task_queue, at_least=9):
                    await save(env.client, run, run.workflow_type)
    finally:
        await env.shutdown()


async def platform_story(platform: Platform) -> None:
    """What a day of incidents runs: Jira and Slack for a SEV1 in production, ServiceNow
    for one that chose it, both resolved; an announcement; triage on each, and a person's
    verdict the classifier learns from."""
    sev1 = await platform.create_incident(
        title="Checkout 5xx in production",
        severity="SEV1",
        service="checkout",
        environment="production",
        enrichments={"target_project": "OPS"},
    )
    chosen = await platform.create_incident(
        title="Payments slow on staging",
        severity="SEV3",
        service="payments",
        environment="staging",
        enrichments={"ticketing_system": "servicenow"},
    )
    for incident in (sev1, chosen):
        await eventually(lambda i=incident: _ticketed(platform, i["id"]), timeout=60)
        await _post(platform, f"/v1/incidents/{incident['id']}/status", {"status": "RESOLVED"})
    await _post(
        platform,
        "/v1/workflows/announce/run",
        {"inputs": {"message": "Checkout is back", "link": STATUS_PAGE}},
    )
    await _post(
        platform,
        f"/v1/incidents/{sev1['id']}/triage/verdict",
        {"verdict": "true_positive", "note": "customers saw it"},
    )


async def record_session_runs(scratch: Path) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(VENV_BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        sessions = await record_sessions(env, scratch)
        for name, session in sessions.items():
            await save(env.client, await session.handle.describe(), f"session-{name}")
    finally:
        await env.shutdown()


async def all_closed(client: Client, task_queue: str, at_least: int) -> list[WorkflowExecution]:
    """Every run on the task queue, once at least `at_least` exist and all have ended."""

    async def probe() -> list[WorkflowExecution] | None:
        runs = [run async for run in client.list_workflows(f'TaskQueue="{task_queue}"')]
        running = [r for r in runs if r.status == WorkflowExecutionStatus.RUNNING]
        return runs if len(runs) >= at_least and not running else None

    runs: list[WorkflowExecution] = await eventually(probe, timeout=120)
    return sorted(runs, key=lambda run: (run.workflow_type, run.start_time))


_saved: Counter[str] = Counter()


async def save(client: Client, run: WorkflowExecution, name: str) -> None:
    _saved[name] += 1
    if _saved[name] > 1:
        name = f"{name}-{_saved[name]}"
    handle = client.get_workflow_handle(run.id, run_id=run.run_id)
    history = await handle.fetch_history()
    (HISTORIES / f"{name}.json").write_text(history.to_json() + "\n")
    status = run.status.name.lower() if run.status else "unknown"
    print(f"  {name}.json: {len(history.events)} events ({status})", flush=True)


async def _ticketed(platform: Platform, incident_id: str) -> bool:
    incident = await platform.incident(incident_id)
    return "ticket_created_at" in incident["enrichments"]


async def _post(platform: Platform, path: str, body: object) -> None:
    response = await platform.http.post(path, json=body, headers=platform.auth())
    assert response.status_code < 300, f"{path}: {response.status_code} {response.text}"


if __name__ == "__main__":
    asyncio.run(main())
