"""What the triage workflow and its activities exchange (no secrets, no incident bodies)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

TriageStatus = Literal[
    "analyzing",
    "closed_false_positive",
    "needs_review",
    "awaiting_selection",
    "in_progress",
    "resolved",
    "escalated",
    "failed",
]
# What the classification leads to: close it, let a person review it, or go on to match.
NextStep = Literal["close", "review", "match"]


class TriageInput(BaseModel):
    org_id: str
    incident_id: str
    analysis_id: str  # also the workflow id: <org>:<incident>:triage:<event-seq>
    fireline_url: str = ""


class Classified(BaseModel):
    verdict: Literal["false_positive", "true_positive", "uncertain"]
    confidence: float
    reasons: list[str] = Field(default_factory=list)
    next_step: NextStep
    duplicate_of: list[str] = Field(default_factory=list)  # open incidents it repeats


class Matched(BaseModel):
    runbook_ids: list[str] = Field(default_factory=list)  # best first
    best_confidence: float = 0.0


class DecideInput(BaseModel):
    triage: TriageInput
    review: bool = False  # a false positive below the close threshold: a person decides


class Decided(BaseModel):
    status: TriageStatus
    reason: str
    session_id: str | None = None


class SessionFinished(BaseModel):
    session_id: str
    status: str  # the session's final status: completed, failed, rolled_back...
    result: str | None = None  # its outcome: resolved | in_progress | escalated


class VerifyInput(BaseModel):
    triage: TriageInput
    session_id: str
    finished: SessionFinished | None = None  # None: no word within FOLLOW_TIMEOUT


class LearnInput(BaseModel):
    org_id: str


class Learned(BaseModel):
    verdicts: int  # operator verdicts it learned from
    false_positives: int
    abstains: bool  # too few of one kind: it gives no vote yet
    reason: str


class TriageResult(BaseModel):
    status: TriageStatus
    reason: str
    session_id: str | None = None
