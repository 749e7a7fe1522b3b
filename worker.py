"""Composition root of the worker: the YAML interpreter and the runbook session
workflows, the provider, command and session activities."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.commands import SshTargetResolver
from activities.db import DbTargetResolver
from activities.deps import ActivityDeps
from activities.registry import all_activities
from activities.servicenow import ServiceNowResolver
from connectors.servicenow import ServiceNowConnection
from connectors.sql import DbTarget
from connectors.ssh import SshTarget
from core.secretbox import SecretBox
from core.settings import Settings
from services.connections import ConnectionService
from services.temporal import connect
from store.db import Database
from worker_triage import triage_activities
from workflows.interpreter import YamlWorkflowInterpreter
from workflows.session import RunbookSession
from workflows.triage import TriageWorkflow
from workflows.triage_learn import TriageLearnWorkflow

log = logging.getLogger("fireline.worker")

# Pure modules the workflow code uses; passing them through keeps the sandbox cheap.
PASSTHROUGH_MODULES = (
    "jinja2",
    "markupsafe",
    "dsl",
    "workflows.models",
    "workflows.names",
    "workflows.render_context",
    "workflows.session_checks",
    "workflows.session_models",
    "workflows.session_ticket",
    "workflows.triage_models",
)
# The workflow modules themselves. A sandbox imports a workflow's module afresh for each
# run it holds: for workflows/session.py that was ~120 KiB of every waiting session
# (tracemalloc, bench/approval.py), more than the rest of the session together.
WORKFLOW_MODULES = ("workflows",)
# How often a running command's heartbeat (pid, output tail) reaches Temporal at most:
# also how long a cancel request may take to reach the command.
HEARTBEAT_THROTTLE = timedelta(seconds=2)
WORKFLOWS = (YamlWorkflowInterpreter, RunbookSession, TriageWorkflow, TriageLearnWorkflow)


def sandboxed_runner(*, strict: bool = False) -> SandboxedWorkflowRunner:
    """The sandbox workflows run in. The worker passes the workflow modules through, so
    runs share them. `strict` imports them into each run's sandbox instead, where a
    restricted call in them (the clock, randomness, I/O) raises: the replays of the
    recorded histories run that way, so CI still holds every workflow module to the
    sandbox's rules."""
    modules = PASSTHROUGH_MODULES if strict else (*PASSTHROUGH_MODULES, *WORKFLOW_MODULES)
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*modules)
    )


def build_worker(
    client: Client,
    db: Database,
    settings: Settings,
    extra_workflows: Sequence[type] = (),
    extra_activities: Sequence[Callable[..., Any]] = (),
) -> Worker:
    deps = ActivityDeps(
        db=db,
        providers_file=settings.resolved_providers_file,
        public_url=settings.resolved_public_url,
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[*WORKFLOWS, *extra_workflows],
        activities=[
            *all_activities(
                deps,
                ssh_targets(db, settings),
                db_targets(db, settings),
                servicenow_connections(db, settings),
            ),
            *triage_activities(client, db, settings, connection_service(db, settings)),
            *extra_activities,
        ],
        workflow_runner=sandboxed_runner(),
        max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        default_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
    )


def connection_service(db: Database, settings: Settings) -> Callable[[], ConnectionService]:
    """The connection service, built on first use: the secret key is read then only, so a
    worker that never runs SSH commands or db steps needs none."""
    service: ConnectionService | None = None

    def get() -> ConnectionService:
        nonlocal service
        if service is None:
            service = ConnectionService(db, SecretBox(settings.effective_secret_key()))
        return service

    return get


def ssh_targets(db: Database, settings: Settings) -> SshTargetResolver:
    """Resolves a session's SSH connection."""
    connections = connection_service(db, settings)

    async def resolve(org_id: str, name: str) -> SshTarget:
        return await connections().resolve_ssh_target(org_id, name)

    return resolve


def db_targets(db: Database, settings: Settings) -> DbTargetResolver:
    """Resolves a `db` step's connection; never to a file of Fireline's own data."""
    connections = connection_service(db, settings)

    async def resolve(org_id: str, name: str) -> DbTarget:
        protected = fireline_data_paths(db, settings)
        return await connections().resolve_db_target(org_id, name, protected_paths=protected)

    return resolve


def servicenow_connections(db: Database, settings: Settings) -> ServiceNowResolver:
    """Resolves a servicenow step's connection from the org's connection store."""
    connections = connection_service(db, settings)

    async def resolve(org_id: str, name: str) -> ServiceNowConnection:
        return await connections().resolve_servicenow(org_id, name)

    return resolve


def fireline_data_paths(db: Database, settings: Settings) -> list[Path]:
    """The data directory (secret key, embedded database) and the app's SQLite file."""
    paths = [settings.resolved_data_dir]
    url = make_url(db.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        paths.append(Path(str(url.database)))
    return paths


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
