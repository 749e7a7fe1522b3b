"""The `jira` provider: create a ticket, or update/transition one (with `issue_id`)."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from activities.errors import as_activity_failure
from activities.tickets import link_opened_ticket
from connectors.jira import JiraConnection, JiraConnector
from dsl.providers import JIRA_UPDATE_FIELDS
from workflows.models import ProviderCallInput

CREATE_FIELDS = (
    "summary",
    "description",
    "issue_type",
    "priority",
    "labels",
    "components",
    "custom_fields",
)
UPDATE_FIELDS = ("issue_id", *JIRA_UPDATE_FIELDS)


class JiraActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    @activity.defn(name="provider.jira")
    async def jira(self, call: ProviderCallInput) -> dict[str, Any]:
        with as_activity_failure(f"jira connection '{call.connection or 'jira'}'"):
            connection = self._deps.connection(call.connection, "jira")
            connector = JiraConnector(JiraConnection.model_validate(connection.authentication))
            if call.params.get("issue_id"):
                return await asyncio.to_thread(
                    connector.update_issue, **_pick(call.params, UPDATE_FIELDS)
                )
            created = await asyncio.to_thread(
                connector.create_issue,
                project_key=str(call.params.get("project_key") or call.params["board_name"]),
                idempotency_key=call.idempotency_key,
                **_pick(call.params, CREATE_FIELDS),
            )
        await link_opened_ticket(
            self._deps,
            call,
            system="jira",
            ticket_id=created["issue"]["key"],
            url=created["ticket_url"],
        )
        return created


def _pick(params: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: params[name] for name in names if params.get(name) not in (None, "")}
