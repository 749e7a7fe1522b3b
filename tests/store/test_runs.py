"""Workflow run records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store import runs
from store.db import Database

T0 = datetime(2025, 5, 1, tzinfo=UTC)


async def record(db: Database, run_id: str, org_id: str = "acme", **fields: object) -> bool:
    values: dict[str, object] = {
        "workflow_id": "jira",
        "plan_hash": "h1",
        "trigger": "created",
        "incident_id": "inc_1",
        "event_seq": 1,
        "started_at": T0,
        **fields,
    }
    async with db.session() as session:
        return await runs.record_run(session, run_id=run_id, org_id=org_id, **values)  # type: ignore[arg-type]


async def test_recording_a_run_twice_keeps_the_first(db: Database) -> None:
    assert await record(db, "acme:inc_1:jira:1") is True
    assert await record(db, "acme:inc_1:jira:1", plan_hash="other") is False
    async with db.read_session() as session:
        stored = await runs.runs_for_incident(session, "acme", "inc_1")
    assert [(run.run_id, run.plan_hash) for run in stored] == [("acme:inc_1:jira:1", "h1")]


async def test_runs_are_scoped_by_org(db: Database) -> None:
    await record(db, "acme-run")
    await record(db, "globex-run", org_id="globex")
    async with db.read_session() as session:
        assert [r.run_id for r in await runs.runs_for_incident(session, "acme", "inc_1")] == [
            "acme-run"
        ]
        assert [r.run_id for r in await runs.recent_runs(session, "globex", "jira")] == [
            "globex-run"
        ]


async def test_recent_runs_are_newest_first_and_limited(db: Database) -> None:
    for n in range(4):
        await record(db, f"run-{n}", started_at=T0 + timedelta(minutes=n))
    await record(db, "manual-run", workflow_id="restart", trigger="manual", incident_id=None)
    async with db.read_session() as session:
        latest = await runs.recent_runs(session, "acme", "jira", limit=2)
        every_workflow = await runs.recent_runs(session, "acme")
    assert [run.run_id for run in latest] == ["run-3", "run-2"]
    assert {run.workflow_id for run in every_workflow} == {"jira", "restart"}
