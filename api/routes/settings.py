"""Per-org settings: the execution mode of runbook sessions, the console's list columns,
and triage's guardrails."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import Principal, Role, require_roles
from api.dependencies import (
    CurrentPrincipal,
    OrgSettingsServiceDep,
    TriageLearnerDep,
    TriageSettingsServiceDep,
)
from api.schemas.settings import ExecutionModeIn, ExecutionModeOut, ListColumnsIn, ListColumnsOut
from services.triage_learning import LearnerStatus
from services.triage_settings import TriageSettings

# The redacting route also answers a NaN threshold with a 422 (the default handler
# cannot write NaN back in its JSON answer).
router = APIRouter(prefix="/v1/settings", tags=["settings"])

Admin = Annotated[Principal, Depends(require_roles(Role.ORG_ADMIN))]


@router.get("/execution-mode")
async def get_execution_mode(
    principal: CurrentPrincipal, settings: OrgSettingsServiceDep
) -> ExecutionModeOut:
    """`hil` (the default) asks before every step; `auto` runs steps not marked
    `requires_approval` without asking when the runbook matched with a confidence of at
    least `auto_threshold`."""
    view = await settings.get_execution_mode(org_id=principal.org)
    return ExecutionModeOut.model_validate(view)


@router.put("/execution-mode")
async def put_execution_mode(
    body: ExecutionModeIn, principal: Admin, settings: OrgSettingsServiceDep
) -> ExecutionModeOut:
    """Without `auto_threshold` the current threshold is kept."""
    view = await settings.set_execution_mode(
        org_id=principal.org, mode=body.mode, auto_threshold=body.auto_threshold
    )
    return ExecutionModeOut.model_validate(view)


@router.get("/list-columns")
async def get_list_columns(
    principal: CurrentPrincipal, settings: OrgSettingsServiceDep
) -> ListColumnsOut:
    """The enrichments the console's incident list shows as columns."""
    return ListColumnsOut(columns=await settings.list_columns(org_id=principal.org))


@router.put("/list-columns")
async def put_list_columns(
    body: ListColumnsIn, principal: Admin, settings: OrgSettingsServiceDep
) -> ListColumnsOut:
    columns = await settings.set_list_columns(org_id=principal.org, columns=body.columns)
    return ListColumnsOut(columns=columns)


@router.get("/triage")
async def get_triage_settings(
    principal: CurrentPrincipal, settings: TriageSettingsServiceDep
) -> TriageSettings:
    """When false positives close, and the guardrails of automatic sessions."""
    return await settings.get(org_id=principal.org)


@router.get("/triage/model")
async def get_triage_model(principal: CurrentPrincipal, learner: TriageLearnerDep) -> LearnerStatus:
    """What the org's classifier learned from its people's verdicts, and whether it votes."""
    return await learner.status(principal.org)


@router.put("/triage")
async def put_triage_settings(
    body: TriageSettings, principal: Admin, settings: TriageSettingsServiceDep
) -> TriageSettings:
    """Replaces every triage setting (what is left out gets its default)."""
    return await settings.put(org_id=principal.org, settings=body)
