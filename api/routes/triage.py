"""An incident's triage: the analysis, and a person's verdict on it (DESIGN §12)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from api.body import require_json_content_type
from api.dependencies import CurrentPrincipal, TriageServiceDep
from api.routes.incidents import IncidentId, Writer

router = APIRouter(prefix="/v1/incidents", tags=["triage"])


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["false_positive", "true_positive"]
    note: str | None = Field(None, max_length=2000)


@router.get("/{incident_id}/triage")
async def get_triage(
    incident_id: IncidentId, principal: CurrentPrincipal, triage: TriageServiceDep
) -> dict[str, Any]:
    """The analysis: status, classification {verdict, confidence, reasons}, the ranked
    matches with each factor, the decision with its reason, the session and outcome."""
    return await triage.analysis(org_id=principal.org, incident_id=incident_id)


@router.post("/{incident_id}/triage/verdict", dependencies=[Depends(require_json_content_type)])
async def post_verdict(
    incident_id: IncidentId, body: VerdictIn, principal: Writer, triage: TriageServiceDep
) -> dict[str, Any]:
    """A person's verdict. `true_positive` on an incident triage closed re-opens it, and
    the re-open's triage follows the person."""
    return await triage.record_verdict(
        org_id=principal.org,
        incident_id=incident_id,
        verdict=body.verdict,
        note=body.note,
        actor=principal.sub,
    )
