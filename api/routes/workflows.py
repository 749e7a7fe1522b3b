"""Loaded workflow definitions, reload, manual runs, and the runs of an incident."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api.auth import require_roles
from api.dependencies import AppStateDep, CurrentPrincipal, RegistryDep, RunServiceDep
from api.schemas.workflows import ManualRunIn, ReloadOut, RunOut, WorkflowOut
from services.reload import reload_definitions
from services.workflow_registry import WorkflowEntry, WorkflowRegistry

router = APIRouter(prefix="/v1", tags=["workflows"])
RUNNERS = ("ORG_ADMIN", "SRE_LEAD", "ONCALL_ENGINEER")


@router.get("/workflows", response_model=list[WorkflowOut])
async def list_workflows(
    principal: CurrentPrincipal, registry: RegistryDep, runs: RunServiceDep
) -> list[WorkflowOut]:
    out = []
    for entry in registry.entries:
        last = await runs.recent_runs(principal.org, entry.workflow_id) if entry.workflow_id else []
        out.append(_workflow_out(entry, [RunOut.model_validate(r) for r in last]))
    return out


@router.post(
    "/workflows/reload",
    response_model=ReloadOut,
    dependencies=[Depends(require_roles("ORG_ADMIN"))],
)
async def reload_workflows(registry: RegistryDep, state: AppStateDep) -> ReloadOut:
    entries = await reload_definitions(registry, state.temporal_client, state.settings)
    return _reload_out(registry, entries)


@router.post(
    "/workflows/{workflow_id}/run",
    response_model=RunOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_roles(*RUNNERS))],
)
async def run_workflow(
    workflow_id: str, body: ManualRunIn, principal: CurrentPrincipal, runs: RunServiceDep
) -> RunOut:
    view = await runs.start_manual(
        principal.org, workflow_id, body.inputs, principal.sub, body.incident_id
    )
    return RunOut.model_validate(view)


@router.get("/incidents/{incident_id}/runs", response_model=list[RunOut])
async def incident_runs(
    incident_id: str, principal: CurrentPrincipal, runs: RunServiceDep
) -> list[RunOut]:
    return [
        RunOut.model_validate(v) for v in await runs.runs_for_incident(principal.org, incident_id)
    ]


def _workflow_out(entry: WorkflowEntry, last_runs: list[RunOut]) -> WorkflowOut:
    plan = entry.plan
    return WorkflowOut(
        id=entry.workflow_id,
        file=entry.file,
        name=plan.name if plan else None,
        plan_hash=plan.plan_hash if plan else None,
        triggers=[_describe_trigger(t.type, t.events) for t in plan.triggers] if plan else [],
        active=entry.active,
        inactive_reason=entry.inactive_reason,
        errors=list(entry.errors),
        warnings=list(entry.warnings),
        last_runs=last_runs,
    )


def _describe_trigger(kind: str, events: tuple[str, ...]) -> str:
    return f"{kind}: {', '.join(events)}" if events else kind


def _reload_out(registry: WorkflowRegistry, entries: list[WorkflowEntry]) -> ReloadOut:
    return ReloadOut(
        loaded=len(entries),
        active=len(registry.active_plans()),
        with_errors=sum(1 for e in entries if e.errors),
        workflows=[_workflow_out(e, []) for e in entries],
        runbooks=len(registry.runbooks),
        runbooks_with_errors=sum(1 for r in registry.runbooks if r.errors),
    )
