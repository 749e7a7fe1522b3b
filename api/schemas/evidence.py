"""Response body of the evidence bundle endpoint (camelCase, like the ingest responses)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from services.evidence import EvidenceBundle


class EvidenceBundleOut(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    bundle_id: str
    incident_id: str  # the incident whose ingestion first carried this content
    evidence: dict[str, Any]
    source_payload: Any
    created_at: datetime

    @classmethod
    def of(cls, bundle: EvidenceBundle) -> EvidenceBundleOut:
        return cls(
            bundle_id=bundle.bundle_id,
            incident_id=bundle.incident_id,
            evidence=bundle.evidence,
            source_payload=bundle.source_payload,
            created_at=bundle.created_at,
        )
