"""The `slack` provider: post to an incoming webhook."""

from __future__ import annotations

from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from activities.errors import as_activity_failure
from connectors.slack import SlackConnection, post_message
from workflows.models import ProviderCallInput


class SlackActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    @activity.defn(name="provider.slack")
    async def slack(self, call: ProviderCallInput) -> dict[str, Any]:
        with as_activity_failure(f"slack connection '{call.connection or 'slack'}'"):
            connection = self._deps.connection(call.connection, "slack")
            slack = SlackConnection.model_validate(connection.authentication)
            return await post_message(slack, **call.params)
