"""Evidence bundles: the evidence and source payload an ingestion carried (DESIGN §10).

A bundle is addressed by its content: "bundle-" + the first 32 hex digits of SHA-256 over
the canonical JSON (sorted keys, no spaces) of `{"evidence": ..., "sourcePayload": ...}`.
The same content always has the same id and is stored once per org, attributed to the
first incident that carried it.

A delivery with neither evidence nor a source payload has no bundle: an empty bundle says
nothing, and a single empty bundle per org would name only the first incident it came with.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from core.errors import NotFoundError
from ingest.model import EvidenceLite, GenericIncident
from store import evidence as evidence_store
from store.db import Database
from store.evidence import EvidenceBundle

BUNDLE_PREFIX = "bundle-"
_BUNDLE_ID = re.compile(r"bundle-[0-9a-f]{32}")
_SHOWN_ID_CHARS = 80

__all__ = ["BundleContent", "EvidenceBundle", "EvidenceService", "bundle_content", "content_id"]


@dataclass(frozen=True)
class BundleContent:
    bundle_id: str
    evidence: dict[str, Any]
    source_payload: Any


def bundle_content(incident: GenericIncident) -> BundleContent | None:
    """The bundle a delivery carries, or None when it has no evidence and no payload."""
    evidence = normalised_evidence(incident.evidence_lite)
    if not evidence and incident.source_payload is None:
        return None
    return BundleContent(
        bundle_id=content_id(evidence, incident.source_payload),
        evidence=evidence,
        source_payload=incident.source_payload,
    )


def normalised_evidence(evidence: EvidenceLite) -> dict[str, Any]:
    """The evidence as JSON with the wire's names; an empty kind is left out, so sending
    `"traces": []` and leaving traces out make the same bundle."""
    dumped = evidence.model_dump(by_alias=True, mode="json", exclude_none=True)
    return {kind: items for kind, items in dumped.items() if items}


def content_id(evidence: dict[str, Any], source_payload: Any) -> str:
    canonical = json.dumps(
        {"evidence": evidence, "sourcePayload": source_payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return BUNDLE_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()[:32]


class EvidenceService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, *, org_id: str, bundle_id: str) -> EvidenceBundle:
        """The org's bundle; another org's bundle is "not found", exactly like a missing one."""
        if not _BUNDLE_ID.fullmatch(bundle_id):
            shown = bundle_id[:_SHOWN_ID_CHARS]
            raise NotFoundError(
                f"no evidence bundle {shown!r}: bundle ids look like bundle-<32 hex digits>, "
                "as evidenceBundleId in an ingest response"
            )
        async with self._db.read_session() as session:
            found = await evidence_store.get(session, org_id, bundle_id)
        if found is None:
            raise NotFoundError(f"no evidence bundle {bundle_id!r} in this organisation")
        return found
