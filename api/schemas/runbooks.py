"""Response bodies of the runbook endpoints: what a runbook does, and how well it fits."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class MatchOut(BaseModel):
    """Which incidents the runbook is for; empty lists match anything."""

    keywords: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    severities: list[str] = Field(default_factory=list)


class ApprovalOut(BaseModel):
    roles: list[str]
    timeout_seconds: float
    on_timeout: str
    escalate_to: list[str] = Field(default_factory=list)
    escalation_timeout_seconds: float | None = None


class InputOut(BaseModel):
    name: str
    type: str
    required: bool
    default: Any = None
    description: str = ""


class StepNamesOut(BaseModel):
    """Step names per phase, in the order a session runs them."""

    prechecks: list[str] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list)
    postchecks: list[str] = Field(default_factory=list)
    requiring_approval: list[str] = Field(default_factory=list)


class RunbookOut(BaseModel):
    id: str | None  # None: a file whose id cannot be read
    file: str
    name: str | None = None
    description: str = ""
    match: MatchOut | None = None
    target: str | None = None  # the `target.connection` template
    approval: ApprovalOut | None = None
    inputs: list[InputOut] = Field(default_factory=list)
    steps: StepNamesOut | None = None
    plan_hash: str | None = None
    # False when it has errors or a provider it calls is not configured (inactive_reason).
    startable: bool
    inactive_reason: str | None = None
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class RunbookDraftOut(BaseModel):
    """A draft runbook: save `yaml` as `file_name` in the workflows directory."""

    runbook_id: str
    file_name: str
    yaml: str


class RunbookMatchOut(BaseModel):
    """A runbook ranked for an incident: how confident the match is, and why."""

    runbook_id: str | None
    name: str
    description: str = ""
    confidence: float  # the factors' weighted mean (docs/triage.md)
    factors: dict[str, float]  # criteria, text, success, recency: each 0 to 1
    reasons: list[str]
    startable: bool
    inactive_reason: str | None = None
    execute_url: str
