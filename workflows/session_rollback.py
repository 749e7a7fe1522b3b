"""A runbook session's compensations: registered before each step runs, undone in reverse.

A step that may have run half-way is undone too, so its compensation is pushed BEFORE it
runs, rendered from what the earlier steps gave (a rollback never reads its own step's
output). Each compensation is an activity with its own retries; a failing one is
recorded and the others still run. Workflow code, like the session that owns it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from temporalio.exceptions import ActivityError

from dsl.runbook_plan import Connector, ExpectPlan, RollbackPlan, RunbookStepPlan
from workflows.session_calls import (
    StepFailed,
    call_provider,
    outcome_in,
    reason,
    rendered_command,
    rendered_params,
    resolve_connector,
    run_rollback_command,
)
from workflows.session_models import CommandRequest, RollbackResult, SessionInput, SessionStatus

ROLLBACK_OUTPUT_LIMIT = 16 * 1024


@dataclass(frozen=True)
class Compensation:
    """A registered rollback, rendered when its step was about to run."""

    step: str
    plan: RollbackPlan
    command: str | None = None
    connector: Connector = "local"
    params: dict[str, Any] | None = None  # rendered provider parameters


class Rollbacks:
    """What the session would undo, and the undoing."""

    def __init__(self, session: SessionInput, incident_id: str | None) -> None:
        self._session = session
        self._incident_id = incident_id
        self._compensations: list[Compensation] = []
        self._touched: list[str] = []  # steps that may have changed something, in order
        self.undoing: str | None = None  # the step being undone

    def register(self, step: RunbookStepPlan, values: dict[str, Any]) -> None:
        """Push the step's compensation (if it has one) before the step runs."""
        rollback = step.rollback
        if rollback is not None and rollback.run is not None:
            target = self._session.target.connection
            self._compensations.append(
                Compensation(
                    step=step.name,
                    plan=rollback,
                    command=rendered_command(rollback.run, values, f"{step.name}.rollback"),
                    connector=resolve_connector(
                        rollback.connector or step.connector, step.name, target
                    ),
                )
            )
        elif rollback is not None:
            assert rollback.provider is not None
            params = rendered_params(rollback.provider, values, f"{step.name}.rollback")
            self._compensations.append(Compensation(step=step.name, plan=rollback, params=params))
        if step.phase == "step":
            self._touched.append(step.name)

    async def undo_all(
        self, results: list[RollbackResult], on_progress: Callable[[], None]
    ) -> SessionStatus:
        """Undo in reverse order, appending each result; steps without a rollback are
        listed as left as they are."""
        undone_or_failed: set[str] = set()
        for compensation in reversed(self._compensations):
            self.undoing = compensation.step
            on_progress()
            results.append(await self._compensate(compensation))
            undone_or_failed.add(compensation.step)
        self.undoing = None
        for step in reversed(self._touched):
            if step not in undone_or_failed:
                results.append(RollbackResult(step=step, status="no_rollback"))
        failed = any(r.status == "failed" for r in results)
        return "rollback_failed" if failed else "rolled_back"

    async def _compensate(self, compensation: Compensation) -> RollbackResult:
        plan = compensation.plan
        step = compensation.step
        try:
            if compensation.command is not None:
                outcome = await run_rollback_command(
                    self._request(compensation, compensation.command),
                    plan.retry,
                    f"rollback {step}",
                )
                return RollbackResult(step=step, status="undone", attempts=outcome.attempt)
            assert plan.provider is not None
            await call_provider(
                self._session,
                self._incident_id,
                plan.provider,
                compensation.params or {},
                name=f"{step}:rollback",
                retry=plan.retry,
                timeout_seconds=plan.timeout_seconds,
            )
            return RollbackResult(step=step, status="undone", attempts=1)
        except ActivityError as err:
            last = outcome_in(err)
            return RollbackResult(
                step=step, status="failed", error=reason(err), attempts=last.attempt if last else 0
            )
        except StepFailed as failed:
            return RollbackResult(step=step, status="failed", error=str(failed))

    def _request(self, compensation: Compensation, command: str) -> CommandRequest:
        return CommandRequest(
            session_id=self._session.session_id,
            org_id=self._session.org_id,
            step=compensation.step,
            purpose="rollback",
            command=command,
            connector=compensation.connector,
            connection=self._session.target.connection,
            timeout_seconds=compensation.plan.timeout_seconds,
            output_limit=ROLLBACK_OUTPUT_LIMIT,
            idempotent=True,  # rollbacks are written to be safe to repeat (docs/runbooks.md)
            maximum_attempts=compensation.plan.retry.maximum_attempts,
            expect=ExpectPlan(),
        )
