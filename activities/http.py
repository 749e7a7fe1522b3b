"""The `http` provider: one HTTP request; returns status, headers and parsed body."""

from __future__ import annotations

from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from activities.errors import as_activity_failure
from connectors.http import http_request
from workflows.models import ProviderCallInput


class HttpActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    @activity.defn(name="provider.http")
    async def http(self, call: ProviderCallInput) -> dict[str, Any]:
        params = dict(call.params)
        with as_activity_failure(f"http {params.get('method', 'GET')} {params.get('url')}"):
            if call.connection:
                auth = self._deps.connection(call.connection, "http").authentication
                params["headers"] = {**auth.get("headers", {}), **params.get("headers", {})}
            return await http_request(**params)
