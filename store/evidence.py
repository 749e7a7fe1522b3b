"""Evidence bundles: what an ingestion carried, stored once per org under its content hash.

The id is computed by the caller from the content, so adding a bundle that exists already
is a no-op, never an error, even when two transactions add it at the same time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import EvidenceBundleModel
from store.rows import to_record
from store.sql import insert_if_absent

__all__ = ["EvidenceBundle", "add_if_absent", "get"]


@dataclass(frozen=True)
class EvidenceBundle:
    org_id: str
    bundle_id: str
    incident_id: str  # the incident whose ingestion first carried this content
    evidence: dict[str, Any]
    source_payload: Any
    created_at: datetime


async def add_if_absent(
    session: AsyncSession,
    *,
    org_id: str,
    bundle_id: str,
    incident_id: str,
    evidence: dict[str, Any],
    source_payload: Any,
    now: datetime,
) -> bool:
    """Insert the bundle in the caller's transaction; False when the org has it already."""
    values = {
        "org_id": org_id,
        "bundle_id": bundle_id,
        "incident_id": incident_id,
        "evidence": evidence,
        "source_payload": source_payload,
        "created_at": now,
    }
    return await insert_if_absent(session, EvidenceBundleModel, ("org_id", "bundle_id"), values)


async def get(session: AsyncSession, org_id: str, bundle_id: str) -> EvidenceBundle | None:
    statement = select(EvidenceBundleModel).where(
        EvidenceBundleModel.org_id == org_id, EvidenceBundleModel.bundle_id == bundle_id
    )
    row = (await session.scalars(statement)).one_or_none()
    return to_record(EvidenceBundle, row) if row is not None else None
