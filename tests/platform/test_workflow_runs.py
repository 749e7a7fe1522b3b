"""How runs start, fail, and stay pinned to their plan."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from services.dispatch import Dispatcher
from services.incidents import IncidentService
from services.workflow_registry import WorkflowRegistry
from store import outbox
from store.enums import Severity
from tests.platform.harness import (
    Platform,
    eventually,
    make_settings,
    running_platform,
    write_workflow,
)
from tests.platform.ingest_helpers import all_dispatched

NOTIFY_ON_CREATE = """
workflow:
  id: say-hello
  triggers: [{type: incident, events: [created]}]
  steps:
    - name: hello
      provider: {type: notify, with: {message: "hello {{ incident.title }}"}}
"""


async def test_template_error_fails_the_run_naming_step_and_template(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    write_workflow(
        workflows,
        "typo",
        """
        workflow:
          id: typo
          triggers: [{type: incident, events: [created]}]
          steps:
            - name: greet
              provider: {type: notify, with: {message: "owner is {{ incident.owner.name }}"}}
        """,
    )
    settings = make_settings(tmp_path, temporal_env, workflows, {})
    async with running_platform(settings, temporal_env) as platform:
        incident = await platform.create_incident()
        run_id = f"acme:{incident['id']}:typo:1"
        await eventually(lambda: platform.run_exists(run_id))
        status = await eventually(lambda: platform.finished_status(run_id))
        assert status == WorkflowExecutionStatus.FAILED
        handle = platform.client.get_workflow_handle(run_id)
        try:
            await handle.result()
        except Exception as err:  # WorkflowFailureError wrapping our ApplicationError
            message = str(err.__cause__)
        assert "step 'greet'" in message
        assert "incident.owner.name" in message
        assert "owner" in message
        assert await platform.notifications() == []


async def test_on_failure_continue_runs_later_steps(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    write_workflow(
        workflows,
        "tolerant",
        """
        workflow:
          id: tolerant
          triggers: [{type: incident, events: [created]}]
          steps:
            - name: broken
              on_failure: continue
              provider: {type: notify, with: {message: "{{ incident.nope }}"}}
            - name: after
              provider:
                type: notify
                with: {message: "previous step {{ steps.broken.status }}"}
        """,
    )
    settings = make_settings(tmp_path, temporal_env, workflows, {})
    async with running_platform(settings, temporal_env) as platform:
        await platform.create_incident()
        [note] = await eventually(lambda: platform.notifications())
        assert note["message"] == "previous step failed"


async def test_workflow_with_unconfigured_provider_is_inactive_and_never_runs(
    tmp_path: Path, temporal_env: WorkflowEnvironment, workflows_dir: Path
) -> None:
    settings = make_settings(tmp_path, temporal_env, workflows_dir, {})
    async with running_platform(settings, temporal_env) as platform:
        listed = (await platform.http.get("/v1/workflows", headers=platform.auth())).json()
        by_id = {w["id"]: w for w in listed}
        jira = by_id["jira-incident-integration"]
        assert jira["active"] is False
        assert "connection 'jira' is not configured" in jira["inactive_reason"]
        assert by_id["announce"]["active"] is True

        incident = await platform.create_incident(enrichments={"target_project": "OPS"})
        await asyncio.sleep(1.0)
        runs = await platform.http.get(
            f"/v1/incidents/{incident['id']}/runs", headers=platform.auth()
        )
        assert runs.json() == []


def test_disabled_workflow_is_listed_inactive(tmp_path: Path) -> None:
    write_workflow(
        tmp_path,
        "off",
        NOTIFY_ON_CREATE.replace("  id: say-hello", "  id: paused\n  disabled: true"),
    )
    registry = WorkflowRegistry(tmp_path, tmp_path / "providers.yaml")
    [entry] = registry.reload()
    assert entry.inactive_reason == "disabled in the file (disabled: true)"
    assert registry.active_plans() == []


async def test_broken_file_is_reported_and_the_others_still_run(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    write_workflow(workflows, "hello", NOTIFY_ON_CREATE)
    write_workflow(
        workflows,
        "broken",
        """
        workflow:
          id: broken
          triggers: [{type: incident}]
          steps:
            - name: x
              provider: {type: notify, with: {mesage: hi}}
        """,
    )
    settings = make_settings(tmp_path, temporal_env, workflows, {})
    async with running_platform(settings, temporal_env) as platform:
        listed = (await platform.http.get("/v1/workflows", headers=platform.auth())).json()
        broken = next(w for w in listed if w["file"].endswith("broken.yaml"))
        assert broken["active"] is False
        assert any("broken.yaml:7:39:" in e and "mesage" in e for e in broken["errors"])
        await platform.create_incident(title="db down")
        [note] = await eventually(lambda: platform.notifications())
        assert note["message"] == "hello db down"


async def test_reload_picks_up_new_files_and_needs_org_admin(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    settings = make_settings(tmp_path, temporal_env, workflows, {})
    async with running_platform(settings, temporal_env) as platform:
        write_workflow(workflows, "hello", NOTIFY_ON_CREATE)
        denied = await platform.http.post(
            "/v1/workflows/reload", headers=platform.auth("acme", "SRE_LEAD")
        )
        assert denied.status_code == 403
        assert "ORG_ADMIN" in denied.json()["detail"]
        await platform.create_incident(title="before reload")
        await all_dispatched(platform.db)  # with the old definitions, before the reload
        assert await platform.notifications() == []

        reloaded = await platform.http.post("/v1/workflows/reload", headers=platform.auth())
        assert reloaded.status_code == 200
        assert reloaded.json()["active"] == 1
        await platform.create_incident(title="after reload")
        [note] = await eventually(lambda: platform.notifications())
        assert note["message"] == "hello after reload"


async def test_editing_yaml_never_changes_a_run_in_flight(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    from tests.fakes.http_target import HttpTarget

    workflows = tmp_path / "wf"
    workflows.mkdir()
    template = """
        workflow:
          id: pinned
          triggers: [{type: incident, events: [created]}]
          steps:
            - name: wait-at-gate
              provider: {type: http, with: {url: "GATE_URL", timeout: 60}}
              timeout: 90s
            - name: say
              provider: {type: notify, with: {message: "VERSION"}}
        """
    with HttpTarget() as target:
        gate_url = f"{target.url}/gate/pinned"
        write_workflow(
            workflows,
            "pinned",
            template.replace("GATE_URL", gate_url).replace("VERSION", "version one"),
        )
        settings = make_settings(tmp_path, temporal_env, workflows, {})
        async with running_platform(settings, temporal_env) as platform:
            incident = await platform.create_incident()
            run_id = f"acme:{incident['id']}:pinned:1"
            await eventually(lambda: platform.run_exists(run_id))
            old_hash = platform_hash(platform, "pinned")

            write_workflow(
                workflows,
                "pinned",
                template.replace("GATE_URL", gate_url).replace("VERSION", "version two"),
            )
            await platform.http.post("/v1/workflows/reload", headers=platform.auth())
            assert platform_hash(platform, "pinned") != old_hash
            target.release("pinned")

            [note] = await eventually(lambda: platform.notifications())
            assert note["message"] == "version one"
            description = await platform.client.get_workflow_handle(run_id).describe()
            assert description.typed_search_attributes is not None
            pinned = [
                p.value
                for p in description.typed_search_attributes
                if p.key.name == "FirelinePlanHash"
            ]
            assert pinned == [old_hash]


def platform_hash(platform: Platform, workflow_id: str) -> str:
    registry = WorkflowRegistry(
        platform.settings.workflows_dir, platform.settings.resolved_providers_file
    )
    registry.reload()
    entry = registry.find(workflow_id)
    assert entry is not None and entry.plan is not None
    return entry.plan.plan_hash


async def test_crash_between_commit_and_start_starts_every_run_exactly_once(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    from store.db import Database

    workflows = tmp_path / "wf"
    workflows.mkdir()
    write_workflow(workflows, "hello", NOTIFY_ON_CREATE)
    settings = make_settings(tmp_path, temporal_env, workflows, {})
    db = Database(settings.resolved_database_url)
    await db.migrate()
    registry = WorkflowRegistry(workflows, settings.resolved_providers_file)
    registry.reload()
    service = IncidentService(db)
    first = await service.create(org_id="acme", actor="t", title="one", severity=Severity.SEV3)
    second = await service.create(org_id="acme", actor="t", title="two", severity=Severity.SEV3)

    crashed = Dispatcher(db, temporal_env.client, registry, settings)
    async with db.session() as session:
        [row, _] = await outbox.pending(session, 10)
    await crashed.start_runs(row)  # the process dies here: the row is never marked

    restarted = Dispatcher(db, temporal_env.client, registry, settings)
    assert await restarted.dispatch_pending() == 2
    assert await restarted.dispatch_pending() == 0
    for incident in (first, second):
        query = f"FirelineIncidentId='{incident.id}'"
        # Visibility catches up with the starts asynchronously.
        found = await eventually(lambda query=query: _listed(temporal_env.client, query))
        assert len(found) == 1
    await db.dispose()


async def _listed(client: Client, query: str) -> list[str]:
    return [w.id async for w in client.list_workflows(query)]
