"""What triage reads from an org's past: earlier alerts like this one, open duplicates,
how runbooks fared, and the automatic sessions still running."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.enums import EventType, IncidentStatus
from store.models import IncidentEventModel, IncidentModel, RunbookSessionModel
from store.timeline_models import IncidentActionModel, IncidentKeyModel

CORRELATION_KEY = "correlation_key"
PLAYBOOK = "PLAYBOOK"


@dataclass(frozen=True)
class PastAlertRow:
    incident_id: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by_source: bool


@dataclass(frozen=True)
class SessionOutcomeRow:
    runbook_id: str
    session_id: str
    result: str  # resolved | in_progress | escalated
    ts: datetime
    incident_text: str


@dataclass(frozen=True)
class OperatorVerdictRow:
    incident: dict[str, Any]  # the fields the learned classifier reads
    false_positive: bool


@dataclass(frozen=True)
class AutoSessionRow:
    session_id: str
    runbook_id: str
    service: str | None
    created_at: datetime
    finished: bool


async def past_alerts(
    session: AsyncSession, org_id: str, incident_id: str, kind: str, value: str, since: datetime
) -> list[PastAlertRow]:
    """Incidents of the org created since `since` with the same correlation key (kind
    "correlation_key") or the same title (kind "title"), this one excluded."""
    statement = select(IncidentModel).where(
        IncidentModel.org_id == org_id,
        IncidentModel.id != incident_id,
        IncidentModel.created_at >= since,
    )
    if kind == CORRELATION_KEY:
        keyed = select(IncidentKeyModel.incident_id).where(
            IncidentKeyModel.org_id == org_id,
            IncidentKeyModel.kind == CORRELATION_KEY,
            IncidentKeyModel.value == value,
        )
        statement = statement.where(IncidentModel.id.in_(keyed))
    else:
        statement = statement.where(IncidentModel.title == value)
    rows = list(await session.scalars(statement.order_by(IncidentModel.created_at)))
    by_source = await _resolved_by_source(session, org_id, [r.id for r in rows if r.resolved_at])
    return [
        PastAlertRow(row.id, row.created_at, row.resolved_at, row.id in by_source) for row in rows
    ]


async def _resolved_by_source(
    session: AsyncSession, org_id: str, incident_ids: Sequence[str]
) -> set[str]:
    """Those whose resolve came from their monitoring source (ingestion names it)."""
    if not incident_ids:
        return set()
    statement = select(IncidentEventModel.incident_id, IncidentEventModel.payload).where(
        IncidentEventModel.org_id == org_id,
        IncidentEventModel.incident_id.in_(incident_ids),
        IncidentEventModel.type == EventType.STATUS_CHANGED.value,
    )
    found = set()
    for incident_id, payload in await session.execute(statement):
        if payload.get("to") == IncidentStatus.RESOLVED and payload.get("source"):
            found.add(incident_id)
    return found


async def open_duplicates(
    session: AsyncSession, org_id: str, incident_id: str, correlation_keys: Sequence[str]
) -> list[str]:
    """Other OPEN incidents of the org sharing a correlation key, oldest first."""
    if not correlation_keys:
        return []
    keyed = select(IncidentKeyModel.incident_id).where(
        IncidentKeyModel.org_id == org_id,
        IncidentKeyModel.kind == CORRELATION_KEY,
        IncidentKeyModel.value.in_(correlation_keys),
    )
    statement = (
        select(IncidentModel.id)
        .where(
            IncidentModel.org_id == org_id,
            IncidentModel.id != incident_id,
            IncidentModel.id.in_(keyed),
            IncidentModel.status == IncidentStatus.OPEN.value,
        )
        .order_by(IncidentModel.created_at)
    )
    return list(await session.scalars(statement))


async def session_outcomes(session: AsyncSession, org_id: str) -> list[SessionOutcomeRow]:
    """Every runbook session outcome recorded on the org's incidents, oldest first."""
    statement = (
        select(IncidentActionModel, IncidentModel.title, IncidentModel.description)
        .join(
            IncidentModel,
            (IncidentModel.org_id == IncidentActionModel.org_id)
            & (IncidentModel.id == IncidentActionModel.incident_id),
        )
        .where(IncidentActionModel.org_id == org_id, IncidentActionModel.action_kind == PLAYBOOK)
        .order_by(IncidentActionModel.ts)
    )
    outcomes = []
    for action, title, description in await session.execute(statement):
        details = action.details if isinstance(action.details, dict) else {}
        runbook = str(details.get("runbook_id") or "")
        if runbook and details.get("session_id"):
            text = f"{title} {description or ''}".strip()
            result = str(details.get("result") or "")
            outcomes.append(
                SessionOutcomeRow(runbook, str(details["session_id"]), result, action.ts, text)
            )
    return outcomes


async def auto_sessions(
    session: AsyncSession, org_id: str, requester: str, since: datetime
) -> list[AutoSessionRow]:
    """Sessions `requester` started since `since`, with their incident's service and
    whether their outcome is recorded."""
    statement = (
        select(RunbookSessionModel, IncidentModel.service)
        .outerjoin(
            IncidentModel,
            (IncidentModel.org_id == RunbookSessionModel.org_id)
            & (IncidentModel.id == RunbookSessionModel.incident_id),
        )
        .where(
            RunbookSessionModel.org_id == org_id,
            RunbookSessionModel.requester == requester,
            RunbookSessionModel.created_at >= since,
        )
    )
    rows = list(await session.execute(statement))
    finished = {o.session_id for o in await session_outcomes(session, org_id)}
    return [
        AutoSessionRow(
            row.session_id, row.runbook_id, service, row.created_at, row.session_id in finished
        )
        for row, service in rows
    ]


async def operator_verdicts(session: AsyncSession, org_id: str) -> list[OperatorVerdictRow]:
    """The latest verdict people gave on each incident of the org, with the incident."""
    statement = (
        select(IncidentEventModel, IncidentModel)
        .join(
            IncidentModel,
            (IncidentModel.org_id == IncidentEventModel.org_id)
            & (IncidentModel.id == IncidentEventModel.incident_id),
        )
        .where(
            IncidentEventModel.org_id == org_id,
            IncidentEventModel.type == EventType.TRIAGED.value,
            IncidentEventModel.payload["stage"].as_string() == "verdict",
        )
        .order_by(IncidentEventModel.incident_id, IncidentEventModel.seq)
    )
    latest: dict[str, OperatorVerdictRow] = {}
    for event, incident in (await session.execute(statement)).all():
        said = event.payload.get("operator_verdict") or {}
        latest[incident.id] = OperatorVerdictRow(
            incident=_learned_fields(incident),
            false_positive=said.get("verdict") == "false_positive",
        )
    return list(latest.values())


def _learned_fields(incident: IncidentModel) -> dict[str, Any]:
    return {
        "title": incident.title,
        "description": incident.description,
        "service": incident.service,
        "source_type": incident.source_type,
        "severity": incident.severity,
        "environment": incident.environment,
        "tags": list(incident.tags or []),
    }
