"""Inputs, outputs and state of a runbook session and of its activities.

Pure pydantic models (the workflow imports them, and the pydantic data converter carries
them through Temporal). The HTTP API builds `SessionInput` to start a session, sends
`ApprovalDecision` through the `decide` Update, and reads `SessionState` through the
`state` Query; `DECISION_ERRORS` tells it which HTTP status each refused decision maps to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from dsl.runbook_plan import Connector, ExpectPlan, Phase, RunbookPlan

SessionMode = Literal["hil", "auto"]
# Values of the FirelineSessionStatus search attribute too.
SessionStatus = Literal[
    "running",
    "waiting_approval",
    "rolling_back",
    "completed",
    "rolled_back",
    "rollback_failed",
    "failed",
]
FINAL_STATUSES: tuple[SessionStatus, ...] = (
    "completed",
    "rolled_back",
    "rollback_failed",
    "failed",
)
SessionPhase = Literal["starting", "precheck", "step", "postcheck", "verification", "done"]
StepStatus = Literal["pending", "waiting_approval", "running", "succeeded", "failed", "rejected"]
RollbackStatus = Literal["undone", "failed", "no_rollback"]
OutcomeResult = Literal["resolved", "in_progress", "escalated"]
CommandPurpose = Literal["step", "rollback"]
NoticeKind = Literal["approval_requested", "approval_escalated"]

DEFAULT_AUTO_THRESHOLD = 0.8
DEFAULT_TICKET_TRANSITIONS = {"resolved": "Done", "in_progress": "In Progress"}
TicketSystem = Literal["jira", "servicenow"]


# --- starting a session ----------------------------------------------------------------


class SessionTarget(BaseModel):
    """Where the commands run: the resolved connection (None: local only), and why."""

    connection: str | None = None
    host: str | None = None  # shown to templates as `target.host`
    rule: str = ""  # which rule chose it, e.g. "runbook target: {{ incident.ci }}"


class SessionInput(BaseModel):
    session_id: str  # also the Temporal workflow id
    org_id: str
    incident: dict[str, Any] = Field(default_factory=dict)  # snapshot when the session starts
    plan: RunbookPlan  # pinned: editing the YAML never changes a session in flight
    requester: str  # the user who started it; never their own approver
    mode: SessionMode = "hil"
    auto_threshold: float = DEFAULT_AUTO_THRESHOLD
    confidence: float = 1.0  # how well the runbook matched the incident, 0..1
    target: SessionTarget = Field(default_factory=SessionTarget)
    inputs: dict[str, Any] = Field(default_factory=dict)  # the runbook's inputs
    ticket: str | None = None  # linked ticket (incident enrichment), "OPS-12" or "INC0010001"
    ticket_system: TicketSystem = "jira"
    ticket_connection: str | None = None  # providers-file connection; None: the system's name
    ticket_transitions: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TICKET_TRANSITIONS)
    )  # outcome result -> Jira transition; a result not listed only gets a comment
    escalation_group: str | None = None  # ServiceNow: assignment group when escalated
    fireline_url: str = ""  # where people reach the API, for links in ticket notes
    analysis_id: str | None = None  # the triage that started it, told when it ends


# --- approvals -------------------------------------------------------------------------


class ApprovalDecision(BaseModel):
    """The `decide` Update: the API fills approver and roles from the caller's token."""

    step: str
    approve: bool
    approver: str
    approver_roles: list[str] = Field(default_factory=list)
    note: str | None = None
    # The caller's org: the session refuses another org's decision before anything else,
    # so the API need not look the session up first. None: not checked (the Temporal UI).
    org_id: str | None = None


class SignalDecision(BaseModel):
    """The `approve` / `reject` Signals (Temporal UI, `temporal workflow signal`)."""

    step: str
    approver: str
    roles: list[str] = Field(default_factory=list)
    note: str | None = None


class DecisionResult(BaseModel):
    step: str
    approved: bool
    approver: str
    decided_at: datetime


# ApplicationError types of a refused decision, and the HTTP status the API answers with.
NOT_PENDING = "ApprovalNotPending"
ROLE_MISSING = "ApproverRoleMissing"
SELF_APPROVAL = "SelfApprovalForbidden"
ALREADY_DECIDED = "ApprovalAlreadyDecided"
SESSION_OVER = "SessionOver"
# Not answered as such: the API looks the session up and answers as for no session at all.
OTHER_ORG = "SessionOfAnotherOrg"
DECISION_ERRORS: dict[str, int] = {
    NOT_PENDING: 404,
    ROLE_MISSING: 403,
    SELF_APPROVAL: 403,
    ALREADY_DECIDED: 409,
    SESSION_OVER: 409,
}


class PendingApproval(BaseModel):
    step: str
    roles: list[str]  # any one of them may decide
    requested_at: datetime
    deadline: datetime  # when it escalates (or is rejected)
    escalated: bool = False
    command: str | None = None  # what the step will run, rendered and quoted, for the approver


class Refusal(BaseModel):
    """A decision that arrived by Signal and was not applied (an Update is refused at once)."""

    step: str
    approver: str
    approve: bool
    error: str  # one of DECISION_ERRORS
    message: str
    at: datetime


# --- what a session reports ------------------------------------------------------------


class StepState(BaseModel):
    name: str
    phase: Phase
    status: StepStatus = "pending"
    exit_code: int | None = None
    output_tail: str = ""  # the end of stdout (then stderr), for people
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    approved_by: str | None = None
    approval_note: str | None = None
    attempts: int = 0
    host: str | None = None


class RollbackResult(BaseModel):
    step: str
    status: RollbackStatus  # no_rollback: it ran, and the runbook has no way to undo it
    error: str | None = None
    attempts: int = 0  # 0: not known (a failure before any command result)


class SessionOutcome(BaseModel):
    result: OutcomeResult
    confidence: float
    summary: str
    recorded: bool = False  # written on the incident
    ticket: str | None = None
    ticket_error: str | None = None


class SessionState(BaseModel):
    session_id: str
    org_id: str
    incident_id: str | None
    runbook_id: str
    plan_hash: str
    requester: str
    mode: SessionMode
    # True when every step asks for an approval: hil mode, or auto below its threshold.
    approve_every_step: bool
    status: SessionStatus = "running"
    phase: SessionPhase = "starting"
    target: SessionTarget
    confidence: float | None = None  # how well the runbook matched (None: from before it was kept)
    steps: list[StepState] = Field(default_factory=list)
    pending: PendingApproval | None = None
    rollbacks: list[RollbackResult] = Field(default_factory=list)
    refusals: list[Refusal] = Field(default_factory=list)
    outcome: SessionOutcome | None = None
    error: str | None = None  # why the session stopped early
    cancelled: bool = False
    started_at: datetime
    finished_at: datetime | None = None

    def step(self, name: str) -> StepState | None:
        return next((s for s in self.steps if s.name == name), None)


# --- activities ------------------------------------------------------------------------


class CommandRequest(BaseModel):
    """One command run by `session.run_command` / `session.run_rollback`."""

    session_id: str
    org_id: str
    step: str
    purpose: CommandPurpose = "step"
    command: str  # rendered and shell-quoted in the workflow
    connector: Connector
    connection: str | None = None  # for ssh: the infrastructure connection's name
    timeout_seconds: float
    output_limit: int
    idempotent: bool  # False: never run twice, even after a worker crash
    # The runbook's attempts for a result that misses `expect` (the Temporal retry policy
    # allows one more, kept for a dead worker or an unreachable host).
    maximum_attempts: int = 1
    expect: ExpectPlan = Field(default_factory=ExpectPlan)


class CommandOutcome(BaseModel):
    exit_code: int | None
    stdout: str
    stderr: str
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration_seconds: float = 0.0
    timed_out: bool = False
    pid: int | None = None
    host: str = ""
    attempt: int = 1


class ApprovalNotice(BaseModel):
    """A notification that an approval is needed, or was escalated after its timeout."""

    kind: NoticeKind
    session_id: str
    org_id: str
    incident_id: str | None
    runbook: str  # its name
    step: str
    roles: list[str]
    deadline: datetime


class StepSummary(BaseModel):
    name: str
    phase: Phase
    status: StepStatus
    exit_code: int | None = None


class OutcomeRecord(BaseModel):
    """What `session.record_outcome` writes on the incident."""

    session_id: str
    org_id: str
    incident_id: str
    runbook_id: str
    runbook: str
    status: SessionStatus
    result: OutcomeResult
    confidence: float
    summary: str
    requester: str
    steps: list[StepSummary]
    rollbacks: list[RollbackResult]


class OutcomeRecorded(BaseModel):
    recorded: bool  # False: a retry found the event already written
    resolved: bool  # the incident's status was changed to RESOLVED
