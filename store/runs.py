"""Workflow runs started for YAML workflows (one row per Temporal workflow id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import utcnow
from store.models import WorkflowRunModel
from store.records import WorkflowRun
from store.rows import to_record
from store.sql import insert_if_absent


async def record_run(
    session: AsyncSession,
    *,
    run_id: str,
    org_id: str,
    workflow_id: str,
    plan_hash: str,
    trigger: str,
    incident_id: str | None = None,
    event_seq: int | None = None,
    started_at: datetime | None = None,
) -> bool:
    """Insert the run unless `run_id` is already recorded; True when inserted."""
    values = {
        "run_id": run_id,
        "org_id": org_id,
        "incident_id": incident_id,
        "workflow_id": workflow_id,
        "plan_hash": plan_hash,
        "trigger": trigger,
        "event_seq": event_seq,
        "started_at": started_at or utcnow(),
    }
    return await insert_if_absent(session, WorkflowRunModel, ("run_id",), values)


async def runs_for_incident(
    session: AsyncSession, org_id: str, incident_id: str
) -> list[WorkflowRun]:
    statement = (
        select(WorkflowRunModel)
        .where(WorkflowRunModel.org_id == org_id, WorkflowRunModel.incident_id == incident_id)
        .order_by(WorkflowRunModel.started_at, WorkflowRunModel.run_id)
    )
    return [to_record(WorkflowRun, row) for row in (await session.scalars(statement)).all()]


async def recent_runs(
    session: AsyncSession, org_id: str, workflow_id: str | None = None, limit: int = 50
) -> list[WorkflowRun]:
    """Newest first; every workflow of the org when `workflow_id` is None."""
    statement = select(WorkflowRunModel).where(WorkflowRunModel.org_id == org_id)
    if workflow_id is not None:
        statement = statement.where(WorkflowRunModel.workflow_id == workflow_id)
    statement = statement.order_by(
        WorkflowRunModel.started_at.desc(), WorkflowRunModel.run_id.desc()
    ).limit(limit)
    return [to_record(WorkflowRun, row) for row in (await session.scalars(statement)).all()]
