"""Step features of the DSL, run for real: foreach, if, enrich, http results, retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.fakes.http_target import HttpTarget
from tests.fakes.jira_server import FakeJira
from tests.fakes.slack_server import FakeSlack
from tests.platform.conftest import jira_providers
from tests.platform.harness import (
    Platform,
    eventually,
    make_settings,
    running_platform,
    write_workflow,
)


async def test_foreach_if_enrich_and_http_results_flow_between_steps(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    with HttpTarget() as target:
        target.set_reply("/owners", json={"owners": ["ana", "bo"], "team": "payments"})
        write_workflow(
            workflows,
            "flow",
            f"""
            workflow:
              id: flow
              triggers: [{{type: incident, events: [created]}}]
              steps:
                - name: lookup
                  provider: {{type: http, with: {{url: "{target.url}/owners"}}}}
                - name: tag-team
                  provider:
                    type: enrich
                    with: {{enrichments: {{team: "{{{{ steps.lookup.results.body.team }}}}"}}}}
                - name: page-owners
                  foreach: "{{{{ steps.lookup.results.body.owners }}}}"
                  provider: {{type: notify, with: {{message: "page {{{{ foreach.value }}}}"}}}}
                - name: never
                  if: "{{{{ incident.severity == 'SEV1' }}}}"
                  provider: {{type: notify, with: {{message: "should not run"}}}}
            """,
        )
        settings = make_settings(tmp_path, temporal_env, workflows, {})
        async with running_platform(settings, temporal_env) as platform:
            incident = await platform.create_incident(severity="SEV3")
            messages = await eventually(lambda: _at_least(platform, 2))
            assert sorted(messages) == ["page ana", "page bo"]
            snapshot = await platform.incident(incident["id"])
            assert snapshot["enrichments"]["team"] == "payments"
            result = await platform.client.get_workflow_handle(
                f"acme:{incident['id']}:flow:1"
            ).result()
            statuses = {s["name"]: s["status"] for s in result["steps"]}
            assert statuses == {
                "lookup": "succeeded",
                "tag-team": "succeeded",
                "page-owners": "succeeded",
                "never": "skipped",
            }


async def _at_least(platform: Platform, count: int) -> list[str]:
    messages = await platform.messages()
    return messages if len(messages) >= count else []


async def test_transient_http_failure_is_retried_by_temporal(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    with HttpTarget() as target:
        target.set_reply("/flaky", status=503, json={"error": "warming up"})
        write_workflow(
            workflows,
            "retry",
            f"""
            workflow:
              id: retry
              triggers: [{{type: incident, events: [created]}}]
              steps:
                - name: call
                  provider: {{type: http, with: {{url: "{target.url}/flaky"}}}}
                  retry: {{maximum_attempts: 10, initial_interval: 100ms, backoff: 1.0}}
                - name: done
                  provider:
                    type: notify
                    with: {{message: "status {{{{ steps.call.results.status_code }}}}"}}
            """,
        )
        settings = make_settings(tmp_path, temporal_env, workflows, {})
        async with running_platform(settings, temporal_env) as platform:
            await platform.create_incident()
            await eventually(lambda: _hits(target, "/flaky", 2))
            target.set_reply("/flaky", status=200, json={"ok": True})
            assert await eventually(lambda: platform.messages()) == ["status 200"]


async def _hits(target: HttpTarget, path: str, count: int) -> bool:
    return sum(1 for r in target.requests if r.path == path) >= count


async def test_sev1_posts_to_slack_and_resolve_closes_the_jira_ticket(
    tmp_path: Path, temporal_env: WorkflowEnvironment, workflows_dir: Path
) -> None:
    with FakeJira() as jira, FakeSlack() as slack:
        providers = {
            **jira_providers(jira),
            "slack": {"type": "slack", "authentication": {"webhook_url": slack.webhook_url}},
        }
        settings = make_settings(tmp_path, temporal_env, workflows_dir, providers)
        async with running_platform(settings, temporal_env) as platform:
            incident = await platform.create_incident(
                title="Payments down", severity="SEV1", enrichments={"target_project": "OPS"}
            )
            posted = await eventually(lambda: _slack_messages(slack))
            assert "SEV1: Payments down" in posted[0]["text"]
            await eventually(lambda: _has_ticket(platform, incident["id"]))

            resolved = await platform.http.post(
                f"/v1/incidents/{incident['id']}/status",
                json={"status": "RESOLVED"},
                headers=platform.auth("acme", "SRE_LEAD"),
            )
            assert resolved.status_code == 200, resolved.text
            # The transition and the comment are two Jira calls: wait for both.
            await eventually(lambda: _status_is(jira, "OPS-1", "Done"))
            comments = await eventually(lambda: _comments(jira, "OPS-1"))
            assert f"incident {incident['id']} was resolved" in comments[0]


async def _slack_messages(slack: FakeSlack) -> list[dict[str, Any]]:
    return slack.messages


async def _has_ticket(platform: Platform, incident_id: str) -> bool:
    """The workflow wrote the ticket back (its last step), not only the Jira step's link."""
    return "ticket_created_at" in (await platform.incident(incident_id))["enrichments"]


async def _comments(jira: FakeJira, key: str) -> list[str]:
    return jira.issue(key).comments


async def _status_is(jira: FakeJira, key: str, status: str) -> bool:
    return jira.issue(key).status == status
