"""The baseline: the shipped Jira workflow's steps written by hand in Temporal.

Same activities, same inputs, same retry policies, no interpreter: the difference
between this and the YAML run is the cost of the DSL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.models import EnrichIncidentInput, ProviderCallInput, WorkflowInput

RETRY = RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=2))


@workflow.defn(name="handwritten-jira-incident")
class HandWrittenJiraWorkflow:
    @workflow.run
    async def run(self, run_input: WorkflowInput) -> dict[str, Any]:
        incident = run_input.incident or {}
        run_id = workflow.info().workflow_id
        key = incident["enrichments"]["target_project"]
        ticket = await workflow.execute_activity(
            "provider.jira",
            self._call(
                run_input,
                "create-jira-ticket",
                "jira",
                "jira",
                {
                    "project_key": key,
                    "summary": f"[{incident['severity']}] {incident['title']}",
                    "description": f"Fireline incident {incident['id']}",
                    "issue_type": "Bug",
                    "labels": ["fireline", incident["severity"].lower()],
                },
            ),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RETRY,
        )
        await workflow.execute_activity(
            "incident.enrich",
            EnrichIncidentInput(
                org=run_input.org,
                incident_id=incident["id"],
                enrichments={
                    "ticket_type": "jira",
                    "ticket_id": ticket["issue"]["key"],
                    "ticket_url": ticket["ticket_url"],
                    "ticket_created_at": workflow.now().isoformat(),
                },
                actor=f"workflow:{run_id}",
            ),
            start_to_close_timeout=timedelta(seconds=30),
        )
        await workflow.execute_activity(
            "provider.notify",
            self._call(
                run_input,
                "notify-ticket-created",
                "notify",
                None,
                {
                    "message": f"Jira ticket {ticket['issue']['key']} opened",
                    "links": [
                        {"text": ticket["issue"]["key"], "url": ticket["ticket_url"]},
                        {
                            "text": f"Incident {incident['id']}",
                            "url": run_input.fireline_url,
                            "external": False,
                        },
                    ],
                },
            ),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RETRY,
        )
        return {"ticket": ticket["issue"]["key"]}

    @staticmethod
    def _call(
        run_input: WorkflowInput,
        step: str,
        provider: str,
        connection: str | None,
        params: dict[str, Any],
    ) -> ProviderCallInput:
        run_id = workflow.info().workflow_id
        return ProviderCallInput(
            org=run_input.org,
            incident_id=(run_input.incident or {}).get("id"),
            workflow_id=run_input.plan.id,
            run_id=run_id,
            step=step,
            provider_type=provider,
            connection=connection,
            params=params,
            idempotency_key=f"{run_id}/{step}/0",
        )
