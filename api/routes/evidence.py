"""Evidence bundles named by ingest responses (`evidenceBundleId`), for any org member."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.dependencies import AppStateDep, CurrentPrincipal
from api.schemas.evidence import EvidenceBundleOut
from services.evidence import EvidenceService

router = APIRouter(prefix="/v1/evidence", tags=["evidence"])


def get_evidence_service(state: AppStateDep) -> EvidenceService:
    return EvidenceService(state.db)


EvidenceServiceDep = Annotated[EvidenceService, Depends(get_evidence_service)]


@router.get("/{bundle_id}")
async def get_evidence_bundle(
    bundle_id: str, principal: CurrentPrincipal, evidence: EvidenceServiceDep
) -> EvidenceBundleOut:
    """The bundle's evidence and source payload; 404 when this org has no such bundle."""
    return EvidenceBundleOut.of(await evidence.get(org_id=principal.org, bundle_id=bundle_id))
