"""The live view of a runbook session: what `GET /v1/sessions/{id}/stream` sends.

Polls Temporal, so any API process can serve any session (the worker may be elsewhere):

- `describe()` → the pending command activities' heartbeat details
  (`{started, pid, host, output_tail}`, see activities/commands.py) → `output` events
  with only the text not sent yet. The tail is bounded, so the new part is found by
  overlap with what was sent; when nothing overlaps, some output was missed and the
  whole tail goes out with `gap: true`.
- the `state` query → a compact `state` event whenever it changes, and the final output
  of a step that finished between two polls (`steps[].output_tail`).
- a closed workflow → the last `state`, then `end`, and the stream stops.

Which step a pending activity runs is read once from its `ActivityTaskScheduled` event
(the `CommandRequest` input): the pending activity itself does not say.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from services.session_lookup import find_session
from workflows.names import RUN_COMMAND_ACTIVITY, RUN_ROLLBACK_ACTIVITY, STATE_QUERY
from workflows.session_models import CommandPurpose, CommandRequest, SessionState

SessionEventName = Literal["output", "state", "end", "error"]
StepKey = tuple[CommandPurpose, str]  # (step | rollback, step name)

COMMAND_ACTIVITIES: dict[str, CommandPurpose] = {
    RUN_COMMAND_ACTIVITY: "step",
    RUN_ROLLBACK_ACTIVITY: "rollback",
}
FINISHED_STEP_STATUSES = ("succeeded", "failed", "rejected")
# The heartbeat's output tail (activities.commands.HEARTBEAT_TAIL_CHARS, which this layer
# may not import): a shorter tail is all the output so far.
LIVE_TAIL_CHARS = 2000
# A query waits for a worker; without this bound a stream with no worker would hang.
QUERY_TIMEOUT = timedelta(seconds=5)
KEEPALIVE_SECONDS = 15.0


class SessionEvent(BaseModel):
    id: int  # 1, 2, ... per stream
    event: SessionEventName
    data: dict[str, Any]


class SessionStream:
    def __init__(
        self,
        client: Client,
        poll_interval: float = 0.5,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
    ) -> None:
        self._client = client
        self._poll_interval = poll_interval
        self._keepalive_seconds = keepalive_seconds

    async def follow(self, org: str, session_id: str) -> AsyncIterator[SessionEvent | None]:
        """Look the session up (NotFoundError before anything streams), then return its
        events until it closes; None stands for a keepalive after a quiet while."""
        found = await find_session(self._client, org, session_id)
        follower = _Follower(found.handle)
        return follower.events(self._poll_interval, self._keepalive_seconds)


@dataclass
class _Follower:
    handle: WorkflowHandle[object, object]
    sequence: int = 0
    sent: dict[StepKey, str] = field(default_factory=dict)  # the last tail seen per step
    where: dict[StepKey, dict[str, Any]] = field(default_factory=dict)  # last host, pid
    finished: set[StepKey] = field(default_factory=set)
    steps_by_activity: dict[str, StepKey] = field(default_factory=dict)
    last_state: dict[str, Any] | None = None
    last_error: str | None = None
    ended: bool = False

    async def events(
        self, poll_interval: float, keepalive_seconds: float
    ) -> AsyncIterator[SessionEvent | None]:
        clock = asyncio.get_running_loop().time
        last_sent = clock()
        while True:
            batch = await self._poll()
            for event in batch:
                yield event
            if self.ended:
                return
            if batch or clock() - last_sent >= keepalive_seconds:
                if not batch:
                    yield None
                last_sent = clock()
            await asyncio.sleep(poll_interval)

    async def _poll(self) -> list[SessionEvent]:
        try:
            description = await self.handle.describe()
            events = await self._live_output(description)
        except RPCError as err:
            return self._error(f"cannot reach Temporal ({err.message}); retrying")
        state = await self._state(description)
        if isinstance(state, str):
            return events + self._error(state)
        self.last_error = None
        events += self._final_output(state)
        closed = description.status != WorkflowExecutionStatus.RUNNING
        compact = compact_state(state)
        if closed or compact != self.last_state:
            self.last_state = compact
            events.append(self._event("state", compact))
        if closed:
            status = description.status.name if description.status else "UNKNOWN"
            events.append(self._event("end", {"status": state.status, "temporal_status": status}))
            self.ended = True
        return events

    # --- output --------------------------------------------------------------------

    async def _live_output(self, description: WorkflowExecutionDescription) -> list[SessionEvent]:
        events: list[SessionEvent] = []
        for info in description.raw_description.pending_activities:
            if info.activity_type.name not in COMMAND_ACTIVITIES:
                continue
            details = _heartbeat(info)
            key = await self._step_of(info.activity_id)
            if details is None or key is None or key in self.finished:
                continue
            self.where[key] = {"host": details.get("host"), "pid": details.get("pid")}
            event = self._output(key, str(details.get("output_tail") or ""), info.attempt)
            if event is not None:
                events.append(event)
        return events

    def _final_output(self, state: SessionState) -> list[SessionEvent]:
        """What a finished step printed after its last heartbeat (or at all, if it ran
        between two polls): its kept tail, minus what was sent."""
        events: list[SessionEvent] = []
        for step in state.steps:
            key: StepKey = ("step", step.name)
            if step.status not in FINISHED_STEP_STATUSES or key in self.finished:
                continue
            self.finished.add(key)
            if step.host:
                self.where.setdefault(key, {"host": step.host, "pid": None})
            event = self._output(key, step.output_tail, step.attempts or None)
            if event is not None:
                events.append(event)
        return events

    def _output(self, key: StepKey, tail: str, attempt: int | None) -> SessionEvent | None:
        text, gap = new_text(self.sent.get(key, ""), tail)
        self.sent[key] = tail
        if not text:
            return None
        purpose, step = key
        where = self.where.get(key, {})
        data = {
            "step": step,
            "purpose": purpose,
            "host": where.get("host"),
            "pid": where.get("pid"),
            "attempt": attempt,
            "text": text,
            "gap": gap,
        }
        return self._event("output", data)

    async def _step_of(self, activity_id: str) -> StepKey | None:
        if activity_id not in self.steps_by_activity:
            async for event in self.handle.fetch_history_events():
                if event.HasField("activity_task_scheduled_event_attributes"):
                    self._remember(event.activity_task_scheduled_event_attributes)
        return self.steps_by_activity.get(activity_id)

    def _remember(self, scheduled: Any) -> None:
        purpose = COMMAND_ACTIVITIES.get(scheduled.activity_type.name)
        if purpose is None or not scheduled.input.payloads:
            return
        converter = pydantic_data_converter.payload_converter
        [request] = converter.from_payloads(scheduled.input.payloads[:1], [CommandRequest])
        self.steps_by_activity[scheduled.activity_id] = (purpose, request.step)

    # --- state ---------------------------------------------------------------------

    async def _state(self, description: WorkflowExecutionDescription) -> SessionState | str:
        """The `state` query's answer, or why it could not be had."""
        try:
            state: SessionState = await self.handle.query(
                STATE_QUERY, result_type=SessionState, rpc_timeout=QUERY_TIMEOUT
            )
            return state
        except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError) as err:
            reason = err.message if isinstance(err, RPCError) else str(err)
        if description.status == WorkflowExecutionStatus.COMPLETED:
            # A completed session's result is its final state: no worker needed.
            with contextlib.suppress(RPCError):
                return SessionState.model_validate(await self.handle.result())
        return (
            f"the session's state cannot be read: no worker answered ({reason}); "
            "is `fireline worker` running? Retrying"
        )

    # --- events --------------------------------------------------------------------

    def _error(self, message: str) -> list[SessionEvent]:
        if message == self.last_error:  # said once per outage, not every poll
            return []
        self.last_error = message
        return [self._event("error", {"message": message})]

    def _event(self, name: SessionEventName, data: dict[str, Any]) -> SessionEvent:
        self.sequence += 1
        return SessionEvent(id=self.sequence, event=name, data=data)


def _heartbeat(info: PendingActivityInfo) -> dict[str, Any] | None:
    payloads = info.heartbeat_details.payloads
    if not payloads:
        return None
    [details] = pydantic_data_converter.payload_converter.from_payloads(payloads[:1])
    return details if isinstance(details, dict) else None


def new_text(sent: str, tail: str) -> tuple[str, bool]:
    """The part of `tail` not in `sent` (the previous tail of the same output), and
    whether output may have been missed in between (`gap`)."""
    if len(sent) < LIVE_TAIL_CHARS and tail.startswith(sent):
        return tail[len(sent) :], False  # `sent` was all the output so far: exact
    # `sent` was cut to its last characters. A longer tail (a finished step's kept one)
    # holds all of it: the new text follows its last occurrence.
    found = tail.rfind(sent)
    if found >= 0:
        return tail[found + len(sent) :], False
    # A tail as bounded as `sent` lost its start too: the longest end of `sent` that
    # `tail` starts with is the overlap; the rest is new.
    for start in range(1, len(sent)):
        if tail.startswith(sent[start:]):
            return tail[len(sent) - start :], False
    return tail, True


def compact_state(state: SessionState) -> dict[str, Any]:
    return {
        "status": state.status,
        "phase": state.phase,
        "pending": state.pending.model_dump(mode="json") if state.pending else None,
        "steps": [
            {"name": s.name, "phase": s.phase, "status": s.status, "exit_code": s.exit_code}
            for s in state.steps
        ],
        "rollbacks": [r.model_dump(mode="json") for r in state.rollbacks],
        "outcome": state.outcome.model_dump(mode="json") if state.outcome else None,
        "error": state.error,
    }
