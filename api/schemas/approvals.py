"""Bodies of the approval endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.approvals import DecisionOutcome, DecisionRequest

MAX_NOTE = 2000
MAX_BATCH = 50

Note = Annotated[
    str | None, Field(max_length=MAX_NOTE, description="Why; kept on the step's approval")
]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Note = None


class BatchDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(min_length=1, max_length=255)
    step: str = Field(min_length=1, max_length=255)
    approve: bool = Field(strict=True)
    note: Note = None

    def request(self) -> DecisionRequest:
        return DecisionRequest(self.session_id, self.step, self.approve, self.note)


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decisions: list[BatchDecisionIn] = Field(min_length=1, max_length=MAX_BATCH)


class PendingApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session_id: str
    incident_id: str | None
    runbook_id: str
    step: str
    roles: list[str] = Field(description="Any one of them may decide")
    requested_at: datetime
    deadline: datetime = Field(description="When it escalates, or is rejected")
    escalated: bool
    requester: str = Field(description="Started the session: cannot decide its steps")
    can_decide: bool = Field(description="The caller holds a role and is not the requester")
    approve_url: str
    reject_url: str
    command: str | None = Field(description="What the step runs, rendered and shell-quoted")
    host: str | None = Field(description="Where it runs; null: on the worker itself")
    target_rule: str = Field(description="Which rule chose the host")
    confidence: float | None = Field(
        description="How well the runbook matched the incident, 0..1 (null: not kept)"
    )


class PendingApprovalListOut(BaseModel):
    items: list[PendingApprovalOut]


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session_id: str
    step: str
    approved: bool
    approver: str
    decided_at: datetime


class BatchResultOut(BaseModel):
    session_id: str
    step: str
    status_code: int = Field(description="What deciding this one alone would have answered")
    approved: bool | None = None
    approver: str | None = None
    decided_at: datetime | None = None
    detail: str | None = Field(None, description="Why it was refused")

    @classmethod
    def of(cls, outcome: DecisionOutcome) -> BatchResultOut:
        decision = outcome.decision
        return cls(
            session_id=outcome.session_id,
            step=outcome.step,
            status_code=outcome.status_code,
            approved=decision.approved if decision else None,
            approver=decision.approver if decision else None,
            decided_at=decision.decided_at if decision else None,
            detail=outcome.detail,
        )


class BatchOut(BaseModel):
    results: list[BatchResultOut]
