"""The triage of one incident, durably: classify → close a false positive, or match →
decide (start a session within the org's guardrails, or ask a person) → follow the
session it started → verify its outcome (the session itself updates the ticket). Each stage is a
named activity that records its decision, with reasons, on the incident (DESIGN §12);
a retried stage returns what it recorded before.

The stages run as local activities: each is a few database statements, and as activities
they cost the Temporal server about a third of its CPU per new incident (bench.ingest) in
task dispatch and events. A triage started before that change replays with them as
activities (`LOCAL_STAGES`)."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.names import (
        SESSION_FINISHED_SIGNAL,
        TRIAGE_CLASSIFY_ACTIVITY,
        TRIAGE_CLOSE_ACTIVITY,
        TRIAGE_DECIDE_ACTIVITY,
        TRIAGE_MATCH_ACTIVITY,
        TRIAGE_VERIFY_ACTIVITY,
        TRIAGE_WORKFLOW,
    )
    from workflows.triage_models import (
        Classified,
        Decided,
        DecideInput,
        Matched,
        SessionFinished,
        TriageInput,
        TriageResult,
        VerifyInput,
    )

StageT = TypeVar("StageT")
STAGE_TIMEOUT = timedelta(seconds=60)
STAGE_RETRY = RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=1))
# How long triage follows a session it started (approvals can wait hours).
FOLLOW_TIMEOUT = timedelta(days=2)
LOCAL_STAGES = "triage-local-stages"  # the workflow.patched id


@workflow.defn(name=TRIAGE_WORKFLOW)
class TriageWorkflow:
    def __init__(self) -> None:
        self._finished: SessionFinished | None = None

    @workflow.signal(name=SESSION_FINISHED_SIGNAL)
    def session_finished(self, finished: SessionFinished) -> None:
        self._finished = finished

    @workflow.run
    async def run(self, triage: TriageInput) -> TriageResult:
        classified = await self._stage(TRIAGE_CLASSIFY_ACTIVITY, triage, Classified, "classify")
        if classified.next_step == "close":
            closed = await self._stage(TRIAGE_CLOSE_ACTIVITY, triage, Decided, "close")
            return TriageResult(status=closed.status, reason=closed.reason)
        await self._stage(TRIAGE_MATCH_ACTIVITY, triage, Matched, "match runbooks")
        decide = DecideInput(triage=triage, review=classified.next_step == "review")
        decided = await self._stage(TRIAGE_DECIDE_ACTIVITY, decide, Decided, "decide")
        if decided.session_id is not None:
            decided = await self._follow(triage, decided.session_id)
        return TriageResult(
            status=decided.status, reason=decided.reason, session_id=decided.session_id
        )

    async def _follow(self, triage: TriageInput, session_id: str) -> Decided:
        """Wait for the session to end, then verify what it did."""
        with contextlib.suppress(TimeoutError):  # no word in time: verify records that
            await workflow.wait_condition(
                lambda: self._finished is not None, timeout=FOLLOW_TIMEOUT
            )
        verify = VerifyInput(triage=triage, session_id=session_id, finished=self._finished)
        return await self._stage(TRIAGE_VERIFY_ACTIVITY, verify, Decided, "verify the session")

    async def _stage(
        self, activity: str, argument: object, result_type: type[StageT], summary: str
    ) -> StageT:
        local = workflow.patched(LOCAL_STAGES)
        execute = workflow.execute_local_activity if local else workflow.execute_activity
        result: StageT = await execute(
            activity,
            argument,
            result_type=result_type,
            start_to_close_timeout=STAGE_TIMEOUT,
            retry_policy=STAGE_RETRY,
            summary=summary,
        )
        return result
