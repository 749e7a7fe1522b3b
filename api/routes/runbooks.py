"""Loaded runbooks, and which of them fit an incident (best first, with the reasons).

Runbooks are read from the workflows directory with the workflows; POST
/v1/workflows/reload reads both again.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from api.dependencies import CurrentPrincipal, RunbookCatalogDep
from api.schemas.runbooks import (
    ApprovalOut,
    InputOut,
    MatchOut,
    RunbookDraftOut,
    RunbookMatchOut,
    RunbookOut,
    StepNamesOut,
)
from dsl.runbook_plan import RunbookPlan
from services.runbook_catalog import RankedRunbook
from services.runbook_draft import RunbookDraft
from services.workflow_registry import RunbookEntry

router = APIRouter(prefix="/v1", tags=["runbooks"])

IncidentId = Annotated[str, Path(max_length=64)]
RunbookId = Annotated[str, Path(max_length=128)]


@router.get("/runbooks")
async def list_runbooks(
    principal: CurrentPrincipal, catalog: RunbookCatalogDep
) -> list[RunbookOut]:
    return [runbook_out(entry) for entry in catalog.all()]


@router.get("/runbooks/{runbook_id}")
async def get_runbook(
    runbook_id: RunbookId, principal: CurrentPrincipal, catalog: RunbookCatalogDep
) -> RunbookOut:
    return runbook_out(catalog.get(runbook_id))


@router.get("/incidents/{incident_id}/runbooks")
async def runbooks_for_incident(
    incident_id: IncidentId, principal: CurrentPrincipal, catalog: RunbookCatalogDep
) -> list[RunbookMatchOut]:
    """Which runbook fits this incident: every runbook that compiled, best match first."""
    ranked = await catalog.rank(principal.org, incident_id)
    return [_match_out(incident_id, r) for r in ranked]


@router.post(
    "/incidents/{incident_id}/runbook-draft",
    responses={
        200: {"model": RunbookDraftOut, "content": {"application/yaml": {}}},
        404: {"description": "no such incident in the caller's org"},
    },
)
async def draft_runbook(
    incident_id: IncidentId,
    principal: CurrentPrincipal,
    catalog: RunbookCatalogDep,
    format: Literal["json", "yaml"] = "json",
) -> Response:
    """A runbook YAML for this kind of incident that passes `fireline lint`, to edit and
    commit; `format=yaml` downloads the file itself."""
    draft = await catalog.draft(principal.org, incident_id)
    if format == "yaml":
        return draft_download(draft)
    return JSONResponse(RunbookDraftOut.model_validate(draft, from_attributes=True).model_dump())


def draft_download(draft: RunbookDraft) -> PlainTextResponse:
    """The draft as a YAML file the browser saves under its own name."""
    disposition = f'attachment; filename="{draft.file_name}"'
    return PlainTextResponse(
        draft.yaml, media_type="application/yaml", headers={"Content-Disposition": disposition}
    )


def runbook_out(entry: RunbookEntry) -> RunbookOut:
    plan = entry.plan
    base = RunbookOut(
        id=entry.runbook_id,
        file=entry.file,
        startable=entry.usable,
        inactive_reason=entry.inactive_reason,
        errors=list(entry.errors),
        warnings=list(entry.warnings),
    )
    if plan is None:
        return base
    return base.model_copy(update=_plan_fields(plan))


def _plan_fields(plan: RunbookPlan) -> dict[str, object]:
    approval = plan.approval
    return {
        "name": plan.name,
        "description": plan.description,
        "match": MatchOut(
            keywords=list(plan.match.keywords),
            services=list(plan.match.services),
            severities=list(plan.match.severities),
        ),
        "target": plan.target_connection,
        "approval": ApprovalOut(
            roles=list(approval.roles),
            timeout_seconds=approval.timeout_seconds,
            on_timeout=approval.on_timeout,
            escalate_to=list(approval.escalate_to),
            escalation_timeout_seconds=approval.escalation_timeout_seconds,
        ),
        "inputs": [
            InputOut(
                name=i.name,
                type=i.type,
                required=i.required,
                default=i.default,
                description=i.description,
            )
            for i in plan.inputs
        ],
        "steps": StepNamesOut(
            prechecks=[s.name for s in plan.prechecks],
            steps=[s.name for s in plan.steps],
            postchecks=[s.name for s in plan.postchecks],
            requiring_approval=[s.name for s in plan.steps if s.requires_approval],
        ),
        "plan_hash": plan.plan_hash,
    }


def _match_out(incident_id: str, ranked: RankedRunbook) -> RunbookMatchOut:
    entry, plan = ranked.entry, ranked.entry.plan
    assert plan is not None  # only compiled runbooks are ranked
    return RunbookMatchOut(
        runbook_id=entry.runbook_id,
        name=plan.name,
        description=plan.description,
        confidence=ranked.ranking.confidence,
        factors=ranked.ranking.factors,
        reasons=ranked.ranking.reasons,
        startable=entry.usable,
        inactive_reason=entry.inactive_reason,
        execute_url=(
            f"/v1/incidents/{quote(incident_id, safe='')}/runbooks/"
            f"{quote(plan.id, safe='')}/execute"
        ),
    )
