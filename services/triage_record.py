"""How a triage stage records its decision on the incident, and finds it again on a retry."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from store.enums import EventType
from store.incidents import append_event
from store.records import IncidentSnapshot
from workflows.names import TRIAGE_REQUESTER
from workflows.triage_models import TriageInput


def recorded(snapshot: IncidentSnapshot, triage: TriageInput, key: str) -> Any:
    """What this analysis already recorded under `key` (a retried stage), else None."""
    current = snapshot.triage or {}
    return current.get(key) if current.get("analysis_id") == triage.analysis_id else None


async def record_stage(
    session: AsyncSession, triage: TriageInput, stage: str, status: str, **decided: Any
) -> None:
    """One INCIDENT_TRIAGED event: the stage, the status it leads to, what it decided."""
    payload: dict[str, Any] = {"analysis_id": triage.analysis_id, "stage": stage, "status": status}
    for key, value in decided.items():
        payload[key] = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    await append_event(
        session,
        org_id=triage.org_id,
        incident_id=triage.incident_id,
        type=EventType.TRIAGED,
        payload=payload,
        actor=TRIAGE_REQUESTER,
    )
