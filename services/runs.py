"""Workflow runs: manual starts, and runs with their live status from Temporal."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from core.errors import InvalidInputError, NotFoundError
from core.settings import Settings
from dsl.triggers import validate_manual_inputs
from services.jsonable import jsonable
from services.temporal import ui_link
from services.workflow_registry import WorkflowRegistry
from services.workflow_start import build_input, start_plan_run
from store import runs
from store.db import Database
from store.incidents import get_snapshot
from workflows.models import TriggerContext


@dataclass(frozen=True)
class RunView:
    run_id: str
    workflow_id: str
    incident_id: str | None
    trigger: str
    plan_hash: str
    status: str
    temporal_ui_url: str


class RunService:
    def __init__(
        self, db: Database, client: Client, registry: WorkflowRegistry, settings: Settings
    ) -> None:
        self._db = db
        self._client = client
        self._registry = registry
        self._settings = settings

    async def start_manual(
        self,
        org: str,
        workflow_id: str,
        inputs: dict[str, Any],
        actor: str,
        incident_id: str | None = None,
    ) -> RunView:
        entry = self._registry.find(workflow_id)
        if entry is None or entry.plan is None:
            raise NotFoundError(f"workflow '{workflow_id}' is not loaded")
        if entry.inactive_reason:
            raise InvalidInputError(
                f"workflow '{workflow_id}' is inactive: {entry.inactive_reason}"
            )
        if not any(t.type == "manual" for t in entry.plan.triggers):
            raise InvalidInputError(f"workflow '{workflow_id}' has no manual trigger")
        checked, errors = validate_manual_inputs(entry.plan, inputs)
        if errors:
            raise InvalidInputError("; ".join(errors))
        incident = await self._incident(org, incident_id)
        run_id = f"{org}:manual:{workflow_id}:{uuid.uuid4().hex[:12]}"
        run_input = build_input(
            entry.plan,
            org=org,
            trigger=TriggerContext(type="manual", actor=actor),
            incident=incident,
            inputs=checked,
            fireline_url=self._settings.resolved_public_url,
        )
        await start_plan_run(
            self._client, run_id=run_id, task_queue=self._settings.task_queue, run_input=run_input
        )
        async with self._db.session() as session:
            await runs.record_run(
                session,
                run_id=run_id,
                org_id=org,
                incident_id=incident_id,
                workflow_id=workflow_id,
                plan_hash=entry.plan.plan_hash,
                trigger="manual",
                event_seq=None,
            )
        return self._view(
            run_id, workflow_id, incident_id, "manual", entry.plan.plan_hash, "RUNNING"
        )

    async def runs_for_incident(self, org: str, incident_id: str) -> list[RunView]:
        async with self._db.session() as session:
            await get_snapshot(session, org, incident_id)  # 404 for another org's incident
            rows = await runs.runs_for_incident(session, org, incident_id)
        return await self._with_status(rows)

    async def recent_runs(self, org: str, workflow_id: str, limit: int = 5) -> list[RunView]:
        async with self._db.session() as session:
            rows = await runs.recent_runs(session, org, workflow_id, limit)
        return await self._with_status(rows)

    async def _with_status(self, rows: list[Any]) -> list[RunView]:
        statuses = await asyncio.gather(*(self._status(row.run_id) for row in rows))
        return [
            self._view(r.run_id, r.workflow_id, r.incident_id, r.trigger, r.plan_hash, s)
            for r, s in zip(rows, statuses, strict=True)
        ]

    async def _status(self, run_id: str) -> str:
        try:
            description = await self._client.get_workflow_handle(run_id).describe()
        except RPCError:
            return "UNKNOWN"
        return description.status.name if description.status else "UNKNOWN"

    async def _incident(self, org: str, incident_id: str | None) -> dict[str, Any] | None:
        if incident_id is None:
            return None
        async with self._db.session() as session:
            return jsonable(await get_snapshot(session, org, incident_id))

    def _view(
        self,
        run_id: str,
        workflow_id: str,
        incident_id: str | None,
        trigger: str,
        plan_hash: str,
        status: str,
    ) -> RunView:
        return RunView(
            run_id=run_id,
            workflow_id=workflow_id,
            incident_id=incident_id,
            trigger=trigger,
            plan_hash=plan_hash,
            status=status,
            temporal_ui_url=ui_link(self._settings, run_id),
        )
