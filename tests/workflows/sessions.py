"""What the session tests share: a rig (server, database, worker settings), runbooks
compiled by the real compiler, and polling helpers."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from core.settings import Settings
from dsl.compiler import compile_text
from dsl.runbook_plan import RunbookPlan
from services.incidents import IncidentService
from services.jsonable import jsonable
from store.db import Database
from store.enums import Severity
from store.incidents import get_snapshot, list_events
from store.notifications import notifications_since
from store.records import IncidentSnapshot, Notification, StoredEvent
from tests.platform.harness import eventually
from worker import build_worker, sandboxed_runner
from workflows.session import RunbookSession
from workflows.session_models import (
    SessionInput,
    SessionMode,
    SessionState,
    SessionTarget,
    TicketSystem,
)

ORG = "acme"
REQUESTER = "alice"
OUTCOME_TITLE = "Runbook session "
SessionHandle = WorkflowHandle[RunbookSession, SessionState]


def compile_runbook(text: str, **placeholders: str) -> RunbookPlan:
    """Compile YAML with the real compiler; `@NAME@` in the text becomes placeholders[name]."""
    source = textwrap.dedent(text).lstrip("\n")
    for name, value in placeholders.items():
        source = source.replace(f"@{name.upper()}@", value)
    result = compile_text(source, "test-runbook.yaml")
    assert result.runbook is not None, [str(d) for d in result.diagnostics]
    return result.runbook


@dataclass
class SessionRig:
    env: WorkflowEnvironment
    db: Database
    settings: Settings
    dir: Path

    @classmethod
    def create(cls, env: WorkflowEnvironment, db: Database, tmp_path: Path) -> SessionRig:
        providers = tmp_path / "providers.yaml"
        providers.write_text("{}\n")
        settings = Settings(
            data_dir=tmp_path / "data",
            providers_file=providers,
            temporal_address=env.client.service_client.config.target_host,
            task_queue=f"sessions-{uuid.uuid4().hex[:8]}",
        )
        return cls(env=env, db=db, settings=settings, dir=tmp_path)

    @property
    def log(self) -> Path:
        return self.dir / "log.txt"

    def lines(self, path: Path | None = None) -> list[str]:
        path = path or self.log
        return path.read_text().splitlines() if path.exists() else []

    def use_providers(self, providers: dict[str, Any]) -> None:
        """Rewrite the providers file (activities read it on every call)."""
        assert self.settings.providers_file is not None
        self.settings.providers_file.write_text(yaml.safe_dump(providers))

    def worker(self) -> Worker:
        return build_worker(self.env.client, self.db, self.settings)

    def runbook(self, text: str, **placeholders: str) -> RunbookPlan:
        return compile_runbook(text, log=str(self.log), dir=str(self.dir), **placeholders)

    async def incident(self, **fields: Any) -> dict[str, Any]:
        snapshot = await IncidentService(self.db).create(
            org_id=ORG,
            actor="test",
            title=fields.pop("title", "Checkout 5xx"),
            severity=Severity.SEV2,
            service=fields.pop("service", "payment"),
            **fields,
        )
        return jsonable(snapshot)

    async def start(
        self,
        plan: RunbookPlan,
        *,
        incident: dict[str, Any] | None = None,
        mode: SessionMode = "hil",
        confidence: float = 1.0,
        requester: str = REQUESTER,
        target: SessionTarget | None = None,
        inputs: dict[str, Any] | None = None,
        ticket: str | None = None,
        ticket_system: TicketSystem = "jira",
        escalation_group: str | None = None,
    ) -> SessionHandle:
        session_id = f"session-{uuid.uuid4().hex[:12]}"
        request = SessionInput(
            session_id=session_id,
            org_id=ORG,
            incident=incident or {},
            plan=plan,
            requester=requester,
            mode=mode,
            confidence=confidence,
            target=target or SessionTarget(rule="test"),
            inputs=inputs or {},
            ticket=ticket,
            ticket_system=ticket_system,
            escalation_group=escalation_group,
            fireline_url="http://fireline.test",
        )
        return await self.env.client.start_workflow(
            RunbookSession.run, request, id=session_id, task_queue=self.settings.task_queue
        )

    async def snapshot(self, incident_id: str) -> IncidentSnapshot:
        async with self.db.read_session() as session:
            return await get_snapshot(session, ORG, incident_id)

    async def events(self, incident_id: str) -> list[StoredEvent]:
        async with self.db.read_session() as session:
            return await list_events(session, ORG, incident_id)

    async def notifications(self) -> list[Notification]:
        async with self.db.read_session() as session:
            return await notifications_since(session, ORG)

    async def notices(self) -> list[Notification]:
        """The notifications of steps and approvals: all but the sessions' outcomes."""
        return [
            n for n in await self.notifications() if not (n.title or "").startswith(OUTCOME_TITLE)
        ]


async def replays(handle: SessionHandle) -> None:
    """Replay the run's history in the strict sandbox: the workflow is deterministic."""
    replayer = Replayer(
        workflows=[RunbookSession],
        data_converter=pydantic_data_converter,
        workflow_runner=sandboxed_runner(strict=True),
    )
    await replayer.replay_workflow(await handle.fetch_history())


async def idle(handle: SessionHandle) -> bool:
    """Nothing left to do but wait for the decision: the wait's timer was the last event."""
    events = [e async for e in handle.fetch_history_events()]
    return events[-1].event_type == EventType.EVENT_TYPE_TIMER_STARTED


async def state_of(handle: SessionHandle) -> SessionState:
    return await handle.query(RunbookSession.state)


async def wait_for(
    handle: SessionHandle, check: Callable[[SessionState], bool], timeout: float = 60.0
) -> SessionState:
    """Poll the `state` query until `check` holds (no wall-clock assertion: a deadline
    only turns a hang into a failure that shows the last state)."""
    state: SessionState | None = None

    async def probe() -> SessionState | None:
        nonlocal state
        state = await state_of(handle)
        return state if check(state) else None

    try:
        return await eventually(probe, timeout)
    except AssertionError:
        raise AssertionError(f"condition not met; last state: {state}") from None


async def waiting_for(handle: SessionHandle, step: str) -> SessionState:
    return await wait_for(handle, lambda s: s.pending is not None and s.pending.step == step)


async def running(handle: SessionHandle, step: str) -> SessionState:
    return await wait_for(
        handle, lambda s: (found := s.step(step)) is not None and found.status == "running"
    )


def step_statuses(state: SessionState) -> dict[str, str]:
    return {step.name: step.status for step in state.steps}


def rollback_view(state: SessionState) -> list[tuple[str, str]]:
    return [(r.step, r.status) for r in state.rollbacks]
