"""Evidence bundles named by ingest responses (`evidenceBundleId`), for any org member."""

from __future__ import annotations

from fastapi import APIRouter

from api.dependencies import CurrentPrincipal, EvidenceServiceDep
from api.schemas.evidence import EvidenceBundleOut

router = APIRouter(prefix="/v1/evidence", tags=["evidence"])


@router.get("/{bundle_id}")
async def get_evidence_bundle(
    bundle_id: str, principal: CurrentPrincipal, evidence: EvidenceServiceDep
) -> EvidenceBundleOut:
    """The bundle's evidence and source payload; 404 when this org has no such bundle."""
    return EvidenceBundleOut.of(await evidence.get(org_id=principal.org, bundle_id=bundle_id))
