"""Interval triggers as Temporal Schedules, kept in step with the loaded workflows.

A schedule lives in Temporal, so it keeps firing across restarts of the API and the
worker. Each carries its plan pinned in the start action, like any other run; a reload
updates the schedules whose plan changed and deletes those whose workflow is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from core.settings import Settings
from dsl.plan import WorkflowPlan
from dsl.triggers import interval_seconds
from services.workflow_registry import WorkflowRegistry
from services.workflow_start import build_input, search_attributes
from workflows.models import TriggerContext

log = logging.getLogger("fireline.schedules")
PREFIX = "fireline:"


def schedule_id(org: str, workflow_id: str) -> str:
    return f"{PREFIX}{org}:{workflow_id}"


async def sync_schedules(
    client: Client, registry: WorkflowRegistry, settings: Settings
) -> set[str]:
    """Create or update a schedule per (org, interval workflow); delete stale ones."""
    wanted = {
        schedule_id(org, plan.id): _schedule(plan, org, every, settings)
        for plan in registry.active_plans()
        if (every := interval_seconds(plan)) is not None
        for org in settings.schedule_orgs
    }
    existing = {s.id async for s in await client.list_schedules() if s.id.startswith(PREFIX)}
    for sid, schedule in wanted.items():
        await _upsert(client, sid, schedule, exists=sid in existing)
    for stale in existing - wanted.keys():
        await client.get_schedule_handle(stale).delete()
        log.info("deleted schedule %s: its workflow is gone or inactive", stale)
    return set(wanted)


def _schedule(plan: WorkflowPlan, org: str, every: float, settings: Settings) -> Schedule:
    run_input = build_input(
        plan,
        org=org,
        trigger=TriggerContext(type="interval"),
        incident=None,
        fireline_url=settings.resolved_public_url,
    )
    action = ScheduleActionStartWorkflow(
        plan.id,
        run_input,
        id=f"{org}:interval:{plan.id}",
        task_queue=settings.task_queue,
        typed_search_attributes=search_attributes(run_input),
    )
    return Schedule(
        action=action,
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=every))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def _upsert(client: Client, sid: str, schedule: Schedule, *, exists: bool) -> None:
    if exists:
        await client.get_schedule_handle(sid).update(_replace_with(schedule))
        return
    try:
        await client.create_schedule(sid, schedule)
    except ScheduleAlreadyRunningError:  # another API process created it first
        await client.get_schedule_handle(sid).update(_replace_with(schedule))


def _replace_with(schedule: Schedule) -> Callable[[ScheduleUpdateInput], ScheduleUpdate]:
    def updater(_current: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=schedule)

    return updater
