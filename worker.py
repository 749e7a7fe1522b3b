"""Composition root of the worker: one interpreter workflow, the provider activities."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.deps import ActivityDeps
from activities.registry import all_activities
from core.settings import Settings
from services.temporal import connect
from store.db import Database
from workflows.interpreter import YamlWorkflowInterpreter

log = logging.getLogger("fireline.worker")

# Pure modules the workflow code uses; passing them through keeps the sandbox cheap.
PASSTHROUGH_MODULES = ("jinja2", "markupsafe", "dsl", "workflows.models", "workflows.names")


def build_worker(
    client: Client,
    db: Database,
    settings: Settings,
    extra_workflows: Sequence[type] = (),
    extra_activities: Sequence[Callable[..., Any]] = (),
) -> Worker:
    deps = ActivityDeps(db=db, providers_file=settings.resolved_providers_file)
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[YamlWorkflowInterpreter, *extra_workflows],
        activities=[*all_activities(deps), *extra_activities],
        workflow_runner=runner,
    )


async def run_worker(settings: Settings) -> None:
    db = Database(settings.resolved_database_url)
    await db.migrate()
    client = await connect(settings, wait_seconds=60)
    log.info(
        "worker polling task queue %s on %s",
        settings.task_queue,
        settings.resolved_temporal_address,
    )
    try:
        await build_worker(client, db, settings).run()
    finally:
        await db.dispose()


def main() -> None:
    from core.logging import configure_logging

    settings = Settings()
    configure_logging(settings.log_level)
    asyncio.run(run_worker(settings))
