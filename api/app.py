"""The FastAPI application and what it holds for its lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.middleware import BodySizeLimit
from api.openapi import document_refusals
from api.routes import (
    approvals,
    connections,
    evidence,
    forms,
    health,
    incident_timeline,
    incidents,
    ingest,
    notifications,
    runbooks,
    session_stream,
    sessions,
    tickets,
    triage,
    webhooks,
    workflows,
)
from api.routes import settings as settings_routes
from api.state import AppState
from core.secretbox import SecretDecryptionError
from core.settings import Settings
from services.dispatch import Dispatcher
from services.reload import reload_definitions
from services.schedules import sync_schedules
from services.temporal import connect
from services.workflow_registry import WorkflowRegistry
from store.db import Database

log = logging.getLogger("fireline.api")


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await _open_state(settings)
        app.state.fireline = state
        background = asyncio.create_task(_connect_and_dispatch(state))
        try:
            yield
        finally:
            background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background
            await state.db.dispose()

    app = FastAPI(
        title="Fireline",
        summary="Incident automation: YAML workflows and runbooks on Temporal",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app, extra={SecretDecryptionError: 500})
    document_refusals(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        overrides={ingest.UPLOAD_CSV_PATH: settings.max_upload_bytes},
        setting_names={ingest.UPLOAD_CSV_PATH: "FIRELINE_MAX_UPLOAD_BYTES"},
    )
    # ingest before incidents: its fixed paths must not be taken for an incident id.
    routers = (
        health,
        ingest,
        forms,
        incidents,
        incident_timeline,
        triage,
        tickets,
        webhooks,
        workflows,
        notifications,
        connections,
        runbooks,
        sessions,
        session_stream,
        approvals,
        evidence,
    )
    for module in (*routers, settings_routes):
        app.include_router(module.router)
    return app


async def _open_state(settings: Settings) -> AppState:
    db = Database(settings.resolved_database_url)
    await db.migrate()
    registry = WorkflowRegistry(settings.workflows_dir, settings.resolved_providers_file)
    await reload_definitions(registry, None, settings)
    return AppState(
        settings=settings, db=db, jwt_secret=settings.effective_jwt_secret(), registry=registry
    )


async def _connect_and_dispatch(state: AppState) -> None:
    """Connect to Temporal (retrying while it starts), then dispatch forever."""
    while state.temporal_client is None:
        try:
            state.temporal_client = await connect(state.settings, wait_seconds=5)
        except RuntimeError as err:
            log.warning("%s", err)
    await sync_schedules(state.temporal_client, state.registry, state.settings)
    state.dispatcher = Dispatcher(state.db, state.temporal_client, state.registry, state.settings)
    await state.dispatcher.run_forever()
