"""What a session would do, shown before it runs: every command and provider call rendered
with this incident's values (shell-quoted as a session quotes them), where it would run,
which steps would wait for approval and why, and each rollback. Pure: nothing runs.

A template that reads an earlier step's output cannot be rendered before that step has
run; it is shown as written, with a note saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dsl.jinja_env import TemplateError
from dsl.runbook_plan import RollbackPlan, RunbookPlan, RunbookStepPlan
from dsl.shell import render_command
from dsl.templates import render_value
from workflows.session_models import SessionTarget

UNKNOWN_UNTIL_RUN = "steps"  # the render context's name for earlier steps' results


@dataclass(frozen=True)
class CallPreview:
    connector: str  # local | ssh | provider
    command: str | None = None  # rendered, shell-quoted
    provider: str | None = None
    params: dict[str, Any] | None = None
    note: str | None = None  # why it could not be rendered yet


@dataclass(frozen=True)
class StepPreview:
    name: str
    phase: str
    call: CallPreview
    asks_approval: bool
    approval_reason: str
    rollback: CallPreview | None


@dataclass(frozen=True)
class SessionPreview:
    runbook_id: str
    incident_id: str
    mode: str
    auto_threshold: float
    confidence: float
    reasons: list[str]
    target: SessionTarget
    steps: list[StepPreview]
    rollback_order: list[str]  # the steps whose rollbacks would run on failure, in order


def preview_session(
    plan: RunbookPlan,
    incident: Mapping[str, Any],
    *,
    target: SessionTarget,
    inputs: Mapping[str, Any],
    mode: str,
    auto_threshold: float,
    confidence: float,
    reasons: list[str],
    now: datetime,
) -> SessionPreview:
    values = {
        "incident": dict(incident),
        "steps": {},
        "target": {"connection": target.connection, "host": target.host},
        "inputs": dict(inputs),
        "consts": dict(plan.consts),
        "now": now,
    }
    approve_every_step = mode == "hil" or confidence < auto_threshold
    steps = [
        _step(step, values, target, approve_every_step, mode, auto_threshold)
        for step in plan.all_steps()
    ]
    undone = [s.name for s in plan.steps if s.rollback is not None]
    return SessionPreview(
        runbook_id=plan.id,
        incident_id=str(incident.get("id") or ""),
        mode=mode,
        auto_threshold=auto_threshold,
        confidence=confidence,
        reasons=reasons,
        target=target,
        steps=steps,
        rollback_order=list(reversed(undone)),
    )


def _step(
    step: RunbookStepPlan,
    values: Mapping[str, Any],
    target: SessionTarget,
    approve_every_step: bool,
    mode: str,
    auto_threshold: float,
) -> StepPreview:
    asks, reason = _approval(step, approve_every_step, mode, auto_threshold)
    call = _call(step.run, step.provider, step.connector, values, target)
    return StepPreview(
        name=step.name,
        phase=step.phase,
        call=call,
        asks_approval=asks,
        approval_reason=reason,
        rollback=_rollback(step.rollback, step, values, target),
    )


def _approval(
    step: RunbookStepPlan, approve_every_step: bool, mode: str, auto_threshold: float
) -> tuple[bool, str]:
    if step.phase != "step":
        return False, f"a {step.phase} never waits for approval"
    if step.requires_approval:
        return True, "the runbook gates this step (requires_approval)"
    if mode == "hil":
        return True, "the org runs sessions with a person in the loop (execution mode hil)"
    if approve_every_step:
        return True, f"the match confidence is below the org's auto threshold {auto_threshold}"
    return False, "auto mode and the match is confident enough: runs without asking"


def _rollback(
    rollback: RollbackPlan | None,
    step: RunbookStepPlan,
    values: Mapping[str, Any],
    target: SessionTarget,
) -> CallPreview | None:
    if rollback is None:
        return None
    connector = rollback.connector or step.connector
    return _call(rollback.run, rollback.provider, connector, values, target)


def _call(
    run: str | None,
    provider: Any,
    connector: str | None,
    values: Mapping[str, Any],
    target: SessionTarget,
) -> CallPreview:
    if run is not None:
        where = connector or ("ssh" if target.connection else "local")
        try:
            return CallPreview(where, command=render_command(run, values))
        except TemplateError as err:
            return CallPreview(where, command=run, note=_not_yet(run, err))
    try:
        params = render_value(dict(provider.params), values)
    except TemplateError as err:
        return CallPreview("provider", provider=provider.type, params=None, note=str(err.reason))
    return CallPreview("provider", provider=provider.type, params=params)


def _not_yet(template: str, err: TemplateError) -> str:
    if f"{UNKNOWN_UNTIL_RUN}." in template:
        return "shown as written: it reads the output of an earlier step, known when it runs"
    return f"cannot render: {err.reason}"
