"""The frozen, validated plan of a runbook, which a runbook session interprets.

Produced by `dsl.compiler.compile_text` / `compile_file` for a file with a top-level
`runbook:` key and pinned into the session's input, so it round-trips through JSON
unchanged. Command templates stay as text; the session renders them with
`dsl.shell.render_command` (values shell-quoted), provider parameters with
`dsl.templates.render_value`.

Render context of every command, provider parameter and rollback:
  incident  the incident the session is about (its fields and enrichments)
  steps     earlier steps by name: `steps.<name>.stdout`, `.stderr`, `.exit_code` for a
            command, `steps.<name>.results` for a provider call (STEP_RESULT_FIELDS)
  target    the resolved target: `target.connection`, `target.host` (TARGET_FIELDS)
  inputs    the runbook's declared inputs, defaults filled
  consts    the runbook's constants
plus the template globals `has()` and `now()`. `target.connection` itself is rendered
with incident, inputs and consts only.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dsl.plan import InputPlan, ProviderPlan, RetryPlan

# Fireline's roles (api.auth.Role); the DSL may not import the API, so they live here too
# and a test keeps the two equal.
FIRELINE_ROLES = ("ORG_ADMIN", "SRE_LEAD", "ONCALL_ENGINEER", "ANALYST", "VIEWER")
# Incident severities (store.enums.Severity), checked the same way.
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")

Phase = Literal["precheck", "step", "postcheck"]
PHASES: tuple[Phase, ...] = ("precheck", "step", "postcheck")
# "local": on the worker's machine; "ssh": on the target over SSH.
Connector = Literal["local", "ssh"]
CONNECTORS: tuple[Connector, ...] = ("local", "ssh")
OnApprovalTimeout = Literal["escalate", "reject"]

COMMAND_RESULT_FIELDS = ("stdout", "stderr", "exit_code")
PROVIDER_RESULT_FIELDS = ("results",)
STEP_RESULT_FIELDS = COMMAND_RESULT_FIELDS + PROVIDER_RESULT_FIELDS
TARGET_FIELDS = ("connection", "host")

DEFAULT_OUTPUT_LIMIT = 64 * 1024
MAX_OUTPUT_LIMIT = 1024 * 1024
DEFAULT_STEP_TIMEOUT = 60.0
# A step runs once unless it says it may run again (`idempotent: true` and a retry).
NO_RETRY = RetryPlan(maximum_attempts=1)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MatchPlan(_Frozen):
    """Which incidents this runbook is for; empty tuples match anything."""

    keywords: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()  # from SEVERITIES


class ApprovalPlan(_Frozen):
    roles: tuple[str, ...]  # from FIRELINE_ROLES: who may approve
    timeout_seconds: float
    on_timeout: OnApprovalTimeout = "reject"
    escalate_to: tuple[str, ...] = ()  # roles asked after the timeout (escalate only)
    # How long the escalated request waits before it is rejected (escalate only).
    escalation_timeout_seconds: float | None = None


DEFAULT_APPROVAL = ApprovalPlan(roles=("ORG_ADMIN", "SRE_LEAD"), timeout_seconds=15 * 60.0)


class ExpectPlan(_Frozen):
    """What a command's result must look like for the step to succeed."""

    exit_codes: tuple[int, ...] = (0,)
    stdout_contains: str | None = None  # literal text
    stdout_regex: str | None = None  # a Python regular expression, searched (re.search)


class RollbackPlan(_Frozen):
    """The compensation of a step: exactly one of `run` or `provider`."""

    run: str | None = None  # a command template
    provider: ProviderPlan | None = None
    connector: Connector | None = None  # None: the step's connector
    timeout_seconds: float = DEFAULT_STEP_TIMEOUT
    retry: RetryPlan = RetryPlan()
    line: int = 0


class RunbookStepPlan(_Frozen):
    name: str
    phase: Phase
    run: str | None = None  # a command template; exactly one of run / provider
    provider: ProviderPlan | None = None
    connector: Connector | None = None  # None: the target's connector
    requires_approval: bool = False
    idempotent: bool = False  # may run again after a crash or on retry
    rollback: RollbackPlan | None = None
    timeout_seconds: float = DEFAULT_STEP_TIMEOUT
    retry: RetryPlan = NO_RETRY
    expect: ExpectPlan = ExpectPlan()
    output_limit: int = DEFAULT_OUTPUT_LIMIT  # bytes of stdout (and of stderr) kept
    line: int = 0  # line in the source file, for messages

    @property
    def is_command(self) -> bool:
        return self.run is not None


class RunbookPlan(_Frozen):
    id: str
    name: str
    description: str = ""
    source_path: str = ""
    match: MatchPlan = MatchPlan()
    target_connection: str | None = None  # a template naming a connection
    approval: ApprovalPlan = DEFAULT_APPROVAL
    inputs: tuple[InputPlan, ...] = ()
    consts: dict[str, Any] = Field(default_factory=dict)
    prechecks: tuple[RunbookStepPlan, ...] = ()
    steps: tuple[RunbookStepPlan, ...] = ()
    postchecks: tuple[RunbookStepPlan, ...] = ()
    escalation_group: str | None = None  # ServiceNow assignment group on escalation
    plan_hash: str = ""

    def all_steps(self) -> tuple[RunbookStepPlan, ...]:
        """Prechecks, steps, postchecks: the order a session runs them in."""
        return self.prechecks + self.steps + self.postchecks

    def step(self, name: str) -> RunbookStepPlan | None:
        return next((s for s in self.all_steps() if s.name == name), None)

    def providers_used(self) -> set[tuple[str, str | None]]:
        calls = [s.provider for s in self.all_steps()]
        calls += [s.rollback.provider for s in self.all_steps() if s.rollback is not None]
        return {(p.type, p.connection) for p in calls if p is not None}


_LINES: dict[str, Any] = {"__all__": {"line": True, "rollback": {"line"}}}
_NOT_HASHED: dict[str, Any] = {
    "plan_hash": True,
    "source_path": True,
    "prechecks": _LINES,
    "steps": _LINES,
    "postchecks": _LINES,
}


def runbook_hash(plan: RunbookPlan) -> str:
    """Stable hash of everything that changes behaviour: not the path, not line numbers."""
    body = plan.model_dump(mode="json", exclude=_NOT_HASHED)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return digest[:16]


def with_runbook_hash(plan: RunbookPlan) -> RunbookPlan:
    return plan.model_copy(update={"plan_hash": runbook_hash(plan)})
