"""Inputs and outputs of activities and of the YAML interpreter workflow.

Pure pydantic models: `workflows/` imports them, so nothing here may do I/O.
Secrets never appear here: a provider call carries a connection *name* only.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from dsl.plan import WorkflowPlan


class ProviderCallInput(BaseModel):
    org: str
    incident_id: str | None = None
    workflow_id: str  # the YAML id
    run_id: str  # the Temporal workflow id
    step: str
    provider_type: str
    connection: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)  # rendered templates
    idempotency_key: str  # stable across retries and replays of this step


class EnrichIncidentInput(BaseModel):
    org: str
    incident_id: str
    enrichments: dict[str, Any]
    actor: str  # e.g. "workflow:jira-incident-integration"


class TriggerContext(BaseModel):
    type: Literal["incident", "manual", "interval"]
    event: str | None = None  # created | updated | ... for incident triggers
    event_seq: int | None = None
    actor: str | None = None


class WorkflowInput(BaseModel):
    plan: WorkflowPlan  # pinned: editing the YAML never changes a run in flight
    org: str
    trigger: TriggerContext
    incident: dict[str, Any] | None = None  # snapshot at trigger time
    inputs: dict[str, Any] = Field(default_factory=dict)
    fireline_url: str = ""  # public API URL, for links in messages


StepStatus = Literal["succeeded", "failed", "skipped"]


class StepOutcome(BaseModel):
    name: str
    status: StepStatus
    results: Any = None
    error: str | None = None


class WorkflowOutcome(BaseModel):
    workflow_id: str
    plan_hash: str
    steps: list[StepOutcome] = Field(default_factory=list)
