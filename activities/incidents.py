"""Write workflow results back onto the incident (`enrich_incident`, `enrich`)."""

from __future__ import annotations

from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from activities.errors import as_activity_failure
from store.incidents import append_event, get_snapshot
from workflows.models import EnrichIncidentInput, ProviderCallInput


class IncidentActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    @activity.defn(name="incident.enrich")
    async def enrich_incident(self, request: EnrichIncidentInput) -> dict[str, Any]:
        with as_activity_failure(f"enrich incident {request.incident_id}"):
            return await self._enrich(request)

    @activity.defn(name="provider.enrich")
    async def enrich(self, call: ProviderCallInput) -> dict[str, Any]:
        if call.incident_id is None:
            raise ValueError("the enrich provider needs an incident-triggered workflow")
        request = EnrichIncidentInput(
            org=call.org,
            incident_id=call.incident_id,
            enrichments=dict(call.params["enrichments"]),
            actor=f"workflow:{call.workflow_id}",
        )
        return await self.enrich_incident(request)

    async def _enrich(self, request: EnrichIncidentInput) -> dict[str, Any]:
        async with self._deps.db.session() as session:
            snapshot = await get_snapshot(session, request.org, request.incident_id)
            current = snapshot.enrichments or {}
            if all(current.get(k) == v for k, v in request.enrichments.items()):
                return {"enrichments": request.enrichments, "changed": False}  # a retry
            await append_event(
                session,
                org_id=request.org,
                incident_id=request.incident_id,
                type="INCIDENT_ENRICHED",
                payload={"enrichments": request.enrichments},
                actor=request.actor,
            )
        return {"enrichments": request.enrichments, "changed": True}
