"""Runbook sessions as use cases: choose a runbook, start it for an incident, follow it, cancel it.

A session is the Temporal workflow `RunbookSession` (workflows/session.py) with the id
`<org>:<incident>:runbook:<runbook_id>:<n>`; the table runbook_sessions indexes them
(store/sessions.py). Starting writes the row and starts the workflow in one database
transaction, so a start that Temporal refuses leaves no row behind.

Cancel is the only way to stop a session from here: the workflow then stops the running
command, undoes what it changed and records the outcome. Terminating the workflow
(Temporal UI, `temporal workflow terminate`) skips all of that, so it is not offered.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ServiceUnavailableError,
)
from core.ids import utcnow
from core.settings import Settings
from dsl.runbook_plan import RunbookPlan
from services.connections import ConnectionService
from services.idempotency import KEY_TTL
from services.jsonable import jsonable
from services.org_settings import OrgSettingsService
from services.runbook_catalog import unknown_runbook
from services.runbook_match import MatchResult, match_runbook
from services.session_inputs import (
    checked_inputs,
    linked_ticket,
    new_row,
    search_attributes,
    session_id_for,
)
from services.session_lookup import FoundSession, find_session
from services.session_preview import SessionPreview, preview_session
from services.session_status import LiveStatus, live_status, live_statuses
from services.session_target import resolve_target
from services.session_views import SessionDetail, SessionSummary, StartedSession
from services.temporal import ui_link
from services.workflow_registry import WorkflowRegistry
from store import sessions as session_rows
from store.db import Database
from store.incidents import get_snapshot
from store.sessions import RunbookSessionRecord
from workflows.names import (
    SESSION_WORKFLOW,
    STATE_QUERY,
)
from workflows.session_models import (
    FINAL_STATUSES,
    SessionInput,
    SessionState,
)

# How long the `state` query waits for a worker to answer before the API says none runs.
DEFAULT_QUERY_TIMEOUT_SECONDS = 10.0
# With a status filter, rows are read in pages until `limit` sessions match; at most this
# many pages, so a filter that matches nothing does not read the whole table.
STATUS_FILTER_PAGES = 10
STATUS_FILTER_PAGE_SIZE = 100
SUMMARY_TITLE_CHARS = 200
START_TIMEOUT = timedelta(seconds=10)
# The start request's Idempotency-Key, kept on the workflow (see `start`).
REQUEST_KEY_MEMO = "request_key"


class WorkerUnavailableError(ServiceUnavailableError):
    """No worker answered a session's `state` query (the API answers 503)."""


class SessionService:
    def __init__(
        self,
        db: Database,
        client: Client,
        registry: WorkflowRegistry,
        settings: Settings,
        connections: ConnectionService,
        org_settings: OrgSettingsService,
        *,
        query_timeout_seconds: float = DEFAULT_QUERY_TIMEOUT_SECONDS,
    ) -> None:
        self._db = db
        self._client = client
        self._registry = registry
        self._settings = settings
        self._connections = connections
        self._org_settings = org_settings
        self._query_timeout = timedelta(seconds=query_timeout_seconds)

    # --- start ----------------------------------------------------------------------------

    async def start(
        self,
        org: str,
        incident_id: str,
        runbook_id: str,
        requester: str,
        inputs: Mapping[str, Any],
        connection: str | None = None,
        *,
        analysis_id: str | None = None,
        request_key: str | None = None,
    ) -> StartedSession:
        """`analysis_id`: the triage that starts it, told when it ends. `request_key`: the
        request's Idempotency-Key; a retry of a start whose process died finds the session
        that attempt started instead of starting a second one."""
        plan = self._startable(runbook_id)
        incident = await _incident(self._db, org, incident_id)
        request, match = await self._prepare(org, plan, incident, requester, inputs, connection)
        request.analysis_id = analysis_id
        new = new_row(request, incident_id, request_key)
        async with self._db.session() as session:
            row = await session_rows.find_started_by(session, new, utcnow() - KEY_TTL)
            if row is None:
                row = await session_rows.insert_next(
                    session, new, lambda n: session_id_for(org, incident_id, runbook_id, n)
                )
                request = request.model_copy(update={"session_id": row.session_id})
                await self._start_workflow(request, incident, request_key)
        return StartedSession(
            session_id=row.session_id,
            runbook_id=runbook_id,
            incident_id=incident_id,
            number=row.number,
            requester=requester,
            status="running",
            mode=request.mode,
            auto_threshold=request.auto_threshold,
            approve_every_step=request.mode == "hil" or match.confidence < request.auto_threshold,
            confidence=match.confidence,
            reasons=match.reasons,
            target=request.target,
            temporal_ui_url=ui_link(self._settings, row.session_id),
        )

    async def preview(
        self,
        org: str,
        incident_id: str,
        runbook_id: str,
        requester: str,
        inputs: Mapping[str, Any],
        connection: str | None = None,
    ) -> SessionPreview:
        """What `start` would run, rendered, without starting anything."""
        plan = self._startable(runbook_id)
        incident = await _incident(self._db, org, incident_id)
        request, match = await self._prepare(org, plan, incident, requester, inputs, connection)
        return preview_session(
            plan,
            incident,
            target=request.target,
            inputs=request.inputs,
            mode=request.mode,
            auto_threshold=request.auto_threshold,
            confidence=match.confidence,
            reasons=match.reasons,
            now=utcnow(),
        )

    async def _prepare(
        self,
        org: str,
        plan: RunbookPlan,
        incident: dict[str, Any],
        requester: str,
        inputs: Mapping[str, Any],
        connection: str | None,
    ) -> tuple[SessionInput, MatchResult]:
        """The session's input but its id: inputs checked, match, target, mode, ticket."""
        checked = checked_inputs(plan, inputs)
        match = match_runbook(plan.match, incident)
        known = await self._connections.list(org_id=org)
        target = resolve_target(plan, incident, checked, known, connection)
        execution = await self._org_settings.get_execution_mode(org_id=org)
        request = SessionInput(
            session_id="",  # numbered when the row is written
            org_id=org,
            incident=incident,
            plan=plan,
            requester=requester,
            mode=execution.mode.value,
            auto_threshold=execution.auto_threshold,
            confidence=match.confidence,
            target=target,
            inputs=checked,
            fireline_url=self._settings.resolved_public_url,
            escalation_group=plan.escalation_group or self._settings.servicenow_escalation_group,
        )
        ticket = linked_ticket(incident)
        if ticket is not None:
            request.ticket_system, request.ticket = ticket
        return request, match

    def _startable(self, runbook_id: str) -> RunbookPlan:
        entry = self._registry.find_runbook(runbook_id)
        if entry is None:
            raise unknown_runbook(runbook_id, self._registry)
        if entry.plan is None or entry.errors:
            problems = "; ".join(entry.errors) or "it did not compile"
            raise InvalidInputError(
                f"runbook '{runbook_id}' has errors and cannot start: {problems}; fix "
                "the file (fireline lint) and reload (POST /v1/workflows/reload)"
            )
        if entry.inactive_reason is not None:
            raise InvalidInputError(f"runbook '{runbook_id}' cannot start: {entry.inactive_reason}")
        return entry.plan

    async def _start_workflow(
        self, request: SessionInput, incident: Mapping[str, Any], request_key: str | None
    ) -> None:
        title = str(incident.get("title") or incident.get("id") or "")
        try:
            await self._client.start_workflow(
                SESSION_WORKFLOW,
                request,
                id=request.session_id,
                task_queue=self._settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=search_attributes(request, incident),
                memo={REQUEST_KEY_MEMO: request_key} if request_key else None,
                static_summary=f"{request.plan.name} for {title[:SUMMARY_TITLE_CHARS]}",
                # The database transaction (SQLite: the only writer) waits on this call.
                rpc_timeout=START_TIMEOUT,
            )
        except WorkflowAlreadyStartedError:
            if request_key and await self._started_with(request.session_id, request_key):
                return  # by an attempt of this request that died before its commit
            raise ConflictError(
                f"a Temporal workflow with id '{request.session_id}' already exists but the "
                "session index does not list it (was the database reset?); nothing was started"
            ) from None

    async def _started_with(self, session_id: str, request_key: str) -> bool:
        described = await self._client.get_workflow_handle(session_id).describe()
        return bool(await described.memo_value(REQUEST_KEY_MEMO, None) == request_key)

    # --- list -----------------------------------------------------------------------------

    async def list(
        self,
        org: str,
        *,
        incident_id: str | None = None,
        runbook_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[SessionSummary]:
        """Newest first. The status comes from Temporal, so a status filter reads rows in
        pages until `limit` sessions have it (at most STATUS_FILTER_PAGES pages)."""
        page_size = limit if status is None else max(limit, STATUS_FILTER_PAGE_SIZE)
        found: list[SessionSummary] = []
        for page in range(1 if status is None else STATUS_FILTER_PAGES):
            async with self._db.read_session() as session:
                rows = await session_rows.list_sessions(
                    session,
                    org,
                    incident_id=incident_id,
                    runbook_id=runbook_id,
                    limit=page_size,
                    offset=page * page_size,
                )
            live = await live_statuses(self._client, org, rows)
            summaries = [self._summary(row, live[row.session_id]) for row in rows]
            found += [s for s in summaries if status is None or s.status == status]
            if len(found) >= limit or len(rows) < page_size:
                break
        return found[:limit]

    def _summary(self, row: RunbookSessionRecord, live: LiveStatus) -> SessionSummary:
        return SessionSummary(
            session_id=row.session_id,
            incident_id=row.incident_id,
            runbook_id=row.runbook_id,
            number=row.number,
            requester=row.requester,
            plan_hash=row.plan_hash,
            mode=row.mode,
            confidence=row.confidence,
            target_connection=row.target_connection,
            target_rule=row.target_rule,
            created_at=row.created_at,
            status=live.status,
            pending_step=live.pending_step,
            temporal_status=live.temporal_status,
            temporal_ui_url=ui_link(self._settings, row.session_id),
        )

    # --- get and cancel -------------------------------------------------------------------

    async def get(self, org: str, session_id: str) -> SessionDetail:
        found = await find_session(self._client, org, session_id)
        return await self._detail(org, found, await self._state(found))

    async def cancel(self, org: str, session_id: str) -> SessionDetail:
        """Ask the session to stop and roll back; the answer is its state right after."""
        found = await find_session(self._client, org, session_id)
        status = live_status(found.description).status
        # A session that reached its final status may still be recording its outcome.
        if not found.is_open or status in FINAL_STATUSES:
            raise ConflictError(f"session already {status}; nothing to cancel")
        await found.handle.cancel()
        try:
            state = await self._state(found)
        except WorkerUnavailableError as err:
            raise WorkerUnavailableError(
                f"the cancel request was recorded and takes effect once a worker runs; {err}"
            ) from None
        return await self._detail(org, found, state)

    async def _state(self, found: FoundSession) -> SessionState:
        try:
            state: SessionState = await found.handle.query(
                STATE_QUERY, result_type=SessionState, rpc_timeout=self._query_timeout
            )
            return state
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise NotFoundError(f"runbook session '{found.handle.id}' not found") from None
            if found.description.status == WorkflowExecutionStatus.COMPLETED:
                return await self._result(found)
            raise WorkerUnavailableError(
                f"no Fireline worker answered for session '{found.handle.id}' ({err.message}); "
                f"start one with `fireline worker` (task queue '{self._settings.task_queue}')"
            ) from None

    async def _result(self, found: FoundSession) -> SessionState:
        handle = self._client.get_workflow_handle(
            found.handle.id, run_id=found.description.run_id, result_type=SessionState
        )
        state: SessionState = await handle.result()
        return state

    async def _detail(self, org: str, found: FoundSession, state: SessionState) -> SessionDetail:
        async with self._db.read_session() as session:
            row = await session_rows.get_session(session, org, found.handle.id)
        status = found.description.status
        return SessionDetail(
            state=state,
            confidence=row.confidence if row else None,
            temporal_status=status.name if status else "UNKNOWN",
            temporal_ui_url=ui_link(self._settings, found.handle.id),
        )


async def _incident(db: Database, org: str, incident_id: str) -> dict[str, Any]:
    async with db.read_session() as session:
        return jsonable(await get_snapshot(session, org, incident_id))
