"""What the approval API tests share: sessions started straight through the Temporal
client (not the start route), tokens for any user, and marker files that show which
step ran."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

from api.auth import issue_token
from tests.platform.harness import Platform, eventually
from tests.workflows.sessions import compile_runbook
from workflows.names import (
    SA_INCIDENT,
    SA_ORG,
    SA_PENDING_STEP,
    SA_SESSION_STATUS,
    SESSION_WORKFLOW,
    STATE_QUERY,
)
from workflows.session_models import SessionInput, SessionState, SessionTarget

REQUESTER = "alice"
APPROVER = "bob"
RUNBOOK_ID = "restart-web"

# `drain` runs without asking (auto mode, full confidence); `restart` and `flush` wait
# for an SRE_LEAD. Each step leaves `<step>.ran` in the session's directory, and its
# rollback `<step>.undone`.
RUNBOOK = """
runbook:
  id: restart-web
  name: Restart web
  consts: {dir: "@DIR@"}
  approval:
    roles: [SRE_LEAD]
    timeout: 4h
    on_timeout: reject
  steps:
    - name: drain
      run: touch {{ consts.dir }}/drain.ran
      connector: local
      rollback: touch {{ consts.dir }}/drain.undone
    - name: restart
      run: touch {{ consts.dir }}/restart.ran
      connector: local
      requires_approval: true
      rollback: touch {{ consts.dir }}/restart.undone
    - name: flush
      run: touch {{ consts.dir }}/flush.ran
      connector: local
      requires_approval: true
"""


@dataclass(frozen=True)
class Session:
    id: str
    org: str
    incident_id: str
    dir: Path

    def ran(self, step: str) -> bool:
        return (self.dir / f"{step}.ran").exists()

    def undone(self, step: str) -> bool:
        return (self.dir / f"{step}.undone").exists()

    def url(self, step: str, verb: str = "approve") -> str:
        return f"/v1/sessions/{self.id}/steps/{step}/{verb}"


@dataclass
class ApprovalRig:
    platform: Platform
    root: Path
    # Orgs of their own: the dev server outlives the test, and other tests' sessions
    # must not show up in these lists.
    org: str = field(default_factory=lambda: f"acme-{uuid.uuid4().hex[:8]}")
    other_org: str = field(default_factory=lambda: f"other-{uuid.uuid4().hex[:8]}")
    sessions: list[Session] = field(default_factory=list)

    @property
    def http(self) -> httpx.AsyncClient:
        return self.platform.http

    def headers(
        self, sub: str = APPROVER, *roles: str, org: str | None = None, key: str | None = None
    ) -> dict[str, str]:
        token = issue_token(
            self.platform.settings.effective_jwt_secret(),
            org=org or self.org,
            roles=list(roles or ("SRE_LEAD",)),
            sub=sub,
        )
        headers = {"Authorization": f"Bearer {token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    async def start(
        self, org: str | None = None, requester: str = REQUESTER, wait_for: str = "restart"
    ) -> Session:
        """A session of RUNBOOK for a new incident, once it waits for `wait_for`."""
        org = org or self.org
        incident = await self.platform.create_incident(org)
        directory = self.root / f"session-{len(self.sessions) + 1}"
        directory.mkdir()
        session = Session(
            id=f"{org}:{incident['id']}:runbook:{RUNBOOK_ID}:1",
            org=org,
            incident_id=incident["id"],
            dir=directory,
        )
        request = SessionInput(
            session_id=session.id,
            org_id=org,
            incident=incident,
            plan=compile_runbook(RUNBOOK, dir=str(directory)),
            requester=requester,
            mode="auto",
            confidence=1.0,
            target=SessionTarget(rule="test: local"),
        )
        await self.platform.client.start_workflow(
            SESSION_WORKFLOW,
            request,
            id=session.id,
            task_queue=self.platform.settings.task_queue,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SA_ORG, org),
                    SearchAttributePair(SA_INCIDENT, incident["id"]),
                    SearchAttributePair(SA_SESSION_STATUS, "running"),
                ]
            ),
        )
        self.sessions.append(session)
        await self.waiting(session, wait_for)
        return session

    async def start_unserved(self) -> Session:
        """A session no worker serves, published as waiting for an approval of `restart`
        (as one whose worker went away would be)."""
        session = Session(
            id=f"{self.org}:unserved-{len(self.sessions)}:runbook:{RUNBOOK_ID}:1",
            org=self.org,
            incident_id=f"unserved-{len(self.sessions)}",
            dir=self.root,
        )
        request = SessionInput(
            session_id=session.id,
            org_id=self.org,
            plan=compile_runbook(RUNBOOK, dir=str(self.root)),
            requester=REQUESTER,
        )
        await self.platform.client.start_workflow(
            SESSION_WORKFLOW,
            request,
            id=session.id,
            task_queue=f"{self.platform.settings.task_queue}-unserved",
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SA_ORG, self.org),
                    SearchAttributePair(SA_SESSION_STATUS, "waiting_approval"),
                    SearchAttributePair(SA_PENDING_STEP, "restart"),
                ]
            ),
        )
        self.sessions.append(session)
        return session

    def handle(self, session: Session) -> WorkflowHandle[Any, Any]:
        return self.platform.client.get_workflow_handle(session.id)

    async def state(self, session: Session) -> SessionState:
        state: SessionState = await self.handle(session).query(
            STATE_QUERY, result_type=SessionState
        )
        return state

    async def waiting(self, session: Session, step: str) -> SessionState:
        async def check() -> SessionState | None:
            state = await self.state(session)
            return state if state.pending is not None and state.pending.step == step else None

        result: SessionState = await eventually(check)
        return result

    async def finished(self, session: Session) -> SessionState:
        async def check() -> SessionState | None:
            state = await self.state(session)
            return state if state.finished_at is not None else None

        result: SessionState = await eventually(check)
        return result

    async def pending(
        self, sub: str = APPROVER, *roles: str, org: str | None = None
    ) -> list[dict[str, Any]]:
        response = await self.http.get("/v1/approvals", headers=self.headers(sub, *roles, org=org))
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def listed(self, expected: set[str], org: str | None = None) -> list[dict[str, Any]]:
        """The approvals list once it names exactly the sessions `expected` (visibility
        lags behind the sessions)."""

        async def check() -> tuple[list[dict[str, Any]]] | None:
            items = await self.pending(org=org)
            return (items,) if {item["session_id"] for item in items} == expected else None

        (items,) = await eventually(check)
        found: list[dict[str, Any]] = items
        return found

    async def decide(
        self,
        session: Session,
        step: str,
        verb: str = "approve",
        *,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        return await self.http.post(
            session.url(step, verb), headers=headers or self.headers(), json=body
        )

    async def stop_all(self) -> None:
        """Terminate what the test left running (its worker goes away with the test)."""
        for session in self.sessions:
            try:
                description = await self.handle(session).describe()
                if description.status == WorkflowExecutionStatus.RUNNING:
                    await self.handle(session).terminate("test over")
            except RPCError:
                pass


def decision_shape(body: dict[str, Any]) -> tuple[Any, ...]:
    return (body["session_id"], body["step"], body["approved"], body["approver"])
