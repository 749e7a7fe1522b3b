"""The reliable dispatcher: outbox rows become Temporal workflow starts, exactly once.

An incident event and its outbox row commit together. The dispatcher starts every
matching workflow with a deterministic id (`<org>:<incident>:<workflow>:<event-seq>`)
and only then marks the row dispatched. A crash in between leaves the row pending; the
next pass starts the same ids again, Temporal rejects the duplicates, and the row is
marked. So every run starts exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError

from core.settings import Settings
from dsl.plan import WorkflowPlan
from dsl.triggers import incident_trigger_matches
from services.jsonable import jsonable
from services.workflow_registry import WorkflowRegistry
from services.workflow_start import build_input, start_plan_run
from store import outbox, runs
from store.db import Database
from store.incidents import get_snapshot
from workflows.models import TriggerContext
from workflows.names import (
    SA_INCIDENT,
    SA_ORG,
    SA_WORKFLOW,
    TRIAGE_LEARN_WORKFLOW,
    TRIAGE_WORKFLOW,
    triage_learn_run_id,
    triage_run_id,
)
from workflows.triage_models import LearnInput, TriageInput

log = logging.getLogger("fireline.dispatch")
TRIAGE_RUN_NAME = "triage"  # as /v1/incidents/{id}/runs lists it
LEARN_RUN_NAME = "triage-learn"


@dataclass(frozen=True)
class StartedRun:
    run_id: str
    name: str  # as the incident's runs list it: the YAML workflow's id, or our own's name
    plan_hash: str


async def _record(session: AsyncSession, row: outbox.OutboxRow, run: StartedRun) -> None:
    await runs.record_run(
        session,
        run_id=run.run_id,
        org_id=row.org_id,
        incident_id=row.incident_id,
        workflow_id=run.name,
        plan_hash=run.plan_hash,
        trigger=row.trigger_event or "",
        event_seq=row.event_seq,
    )


def incident_run_id(org: str, incident_id: str, workflow_id: str, event_seq: int) -> str:
    return f"{org}:{incident_id}:{workflow_id}:{event_seq}"


class Dispatcher:
    def __init__(
        self, db: Database, client: Client, registry: WorkflowRegistry, settings: Settings
    ) -> None:
        self._db = db
        self._client = client
        self._registry = registry
        self._settings = settings
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows, so dispatch does not wait a poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                dispatched = await self.dispatch_pending()
            except Exception:  # keep dispatching; the rows stay pending and are retried
                log.exception("dispatch pass failed; retrying")
                dispatched = 0
            if dispatched == 0:
                await self._sleep_until_woken()

    async def dispatch_pending(self, limit: int = 100) -> int:
        async with self._db.session() as session:
            rows = await outbox.pending(session, limit)
        for row in rows:
            started = await self.start_runs(row)
            # One transaction records the row's runs and marks it: a crash before it
            # leaves the row pending, and the next pass's starts are refused as duplicates.
            async with self._db.session() as session:
                for run in started:
                    await _record(session, row, run)
                await outbox.mark_dispatched(session, row.id)
        return len(rows)

    async def start_runs(self, row: outbox.OutboxRow) -> list[StartedRun]:
        """Start every workflow the row's event triggers (the caller records them)."""
        if row.trigger_event is None:
            return []
        async with self._db.read_session() as session:
            snapshot = jsonable(await get_snapshot(session, row.org_id, row.incident_id))
        started = []
        for plan in self._matching_plans(row.trigger_event, snapshot):
            run_id = incident_run_id(row.org_id, row.incident_id, plan.id, row.event_seq)
            await self._start(plan, row, snapshot, run_id)
            started.append(StartedRun(run_id, plan.id, plan.plan_hash))
        if self._settings.triage_enabled and row.trigger_event in outbox.TRIAGE_TRIGGERS:
            started.append(await self._start_triage(row))
        if row.trigger_event == outbox.VERDICT_TRIGGER:
            started.append(await self._start_learning(row))
        return started

    async def _start_learning(self, row: outbox.OutboxRow) -> StartedRun:
        """A person's verdict: the org's classifier retrains (workflows/triage_learn.py)."""
        run_id = triage_learn_run_id(row.org_id, row.incident_id, row.event_seq)
        learn = LearnInput(org_id=row.org_id)
        await self._start_own(TRIAGE_LEARN_WORKFLOW, learn, run_id, row)
        return StartedRun(run_id, LEARN_RUN_NAME, LEARN_RUN_NAME)

    async def _start_own(
        self, workflow: str, argument: object, run_id: str, row: outbox.OutboxRow
    ) -> None:
        """Start one of Fireline's own workflows for the row, once."""
        with contextlib.suppress(WorkflowAlreadyStartedError):  # a pass after a crash
            await self._client.start_workflow(
                workflow,
                argument,
                id=run_id,
                task_queue=self._settings.task_queue,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(SA_ORG, row.org_id),
                        SearchAttributePair(SA_INCIDENT, row.incident_id),
                        SearchAttributePair(SA_WORKFLOW, workflow),
                    ]
                ),
            )

    async def _start_triage(self, row: outbox.OutboxRow) -> StartedRun:
        """Each new or re-opened incident gets one triage run (the analysis)."""
        run_id = triage_run_id(row.org_id, row.incident_id, row.event_seq)
        triage = TriageInput(
            org_id=row.org_id,
            incident_id=row.incident_id,
            analysis_id=run_id,
            fireline_url=self._settings.resolved_public_url,
        )
        await self._start_own(TRIAGE_WORKFLOW, triage, run_id, row)
        return StartedRun(run_id, TRIAGE_RUN_NAME, TRIAGE_RUN_NAME)

    def _matching_plans(self, event: str, snapshot: dict[str, object]) -> list[WorkflowPlan]:
        now = datetime.now(UTC)
        return [
            plan
            for plan in self._registry.active_plans()
            if incident_trigger_matches(plan, event, snapshot, now)
        ]

    async def _start(
        self, plan: WorkflowPlan, row: outbox.OutboxRow, snapshot: dict[str, object], run_id: str
    ) -> None:
        trigger = TriggerContext(type="incident", event=row.trigger_event, event_seq=row.event_seq)
        run_input = build_input(
            plan,
            org=row.org_id,
            trigger=trigger,
            incident=snapshot,
            fireline_url=self._settings.resolved_public_url,
        )
        fresh = await start_plan_run(
            self._client, run_id=run_id, task_queue=self._settings.task_queue, run_input=run_input
        )
        log.info("%s run %s", "started" if fresh else "already running:", run_id)

    async def _sleep_until_woken(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._settings.dispatch_poll_seconds)
        self._wake.clear()
