"""Workflows, runbooks and triage rules in the console: each file with its lint state
(errors at file:line), active or inactive and why, a workflow's latest runs; a runbook's
YAML to read; an ORG_ADMIN
reloads them."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Role
from api.dependencies import RegistryDep, RunbookCatalogDep, RunServiceDep
from console.pages import Person, render
from console.session import CSRF_FIELD, check_csrf, state_of
from core.errors import FirelineError
from services.reload import reload_definitions

RECENT_RUNS = 3
router = APIRouter(include_in_schema=False)


@router.get("/workflows", response_class=HTMLResponse)
async def workflows_page(
    request: Request, me: Person, registry: RegistryDep, runs: RunServiceDep
) -> Response:
    ids = [entry.workflow_id for entry in registry.entries if entry.workflow_id]
    recent = await asyncio.gather(*(runs.recent_runs(me.org, i, RECENT_RUNS) for i in ids))
    return render(
        request,
        "workflows.html",
        workflows=registry.entries,
        recent=dict(zip(ids, recent, strict=True)),
        runbooks=registry.runbooks,
        triage_files=registry.triage_files,
        can_reload=me.has_any_role((Role.ORG_ADMIN,)),
    )


@router.get("/runbooks/{runbook_id}", response_class=HTMLResponse)
async def runbook_page(
    request: Request, runbook_id: str, me: Person, catalog: RunbookCatalogDep
) -> Response:
    try:
        entry, source = catalog.get(runbook_id), catalog.source(runbook_id)
    except (FirelineError, OSError):
        return render(request, "not_found.html", 404)
    return render(request, "runbook.html", entry=entry, source=source)


@router.post("/workflows/reload")
async def reload(
    request: Request,
    me: Person,
    registry: RegistryDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    if me.has_any_role((Role.ORG_ADMIN,)):
        state = state_of(request)
        await reload_definitions(registry, state.temporal_client, state.settings)
    return RedirectResponse("/workflows", status_code=303)
