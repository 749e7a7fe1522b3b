"""Reload workflow and runbook definitions and bring Temporal Schedules in line with them."""

from __future__ import annotations

import logging

from temporalio.client import Client

from core.settings import Settings
from services.schedules import sync_schedules
from services.workflow_registry import WorkflowEntry, WorkflowRegistry

log = logging.getLogger("fireline.reload")


async def reload_definitions(
    registry: WorkflowRegistry, client: Client | None, settings: Settings
) -> list[WorkflowEntry]:
    entries = registry.reload()
    for entry in entries:
        for problem in entry.errors:
            log.warning("workflow file has errors and will not run: %s", problem)
    for runbook in registry.runbooks:
        for problem in runbook.errors:
            log.warning("runbook file has errors and cannot start sessions: %s", problem)
    for triage in registry.triage_files:
        for problem in triage.errors:
            log.warning("triage rules have errors; triage classifies without them: %s", problem)
    if client is not None:
        await sync_schedules(client, registry, settings)
    return entries
