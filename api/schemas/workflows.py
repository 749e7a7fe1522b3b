"""Request and response bodies of the workflow and run endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    run_id: str
    workflow_id: str
    incident_id: str | None
    trigger: str
    plan_hash: str
    status: str
    temporal_ui_url: str


class WorkflowOut(BaseModel):
    id: str | None
    file: str
    name: str | None = None
    plan_hash: str | None = None
    triggers: list[str] = Field(default_factory=list)
    active: bool
    inactive_reason: str | None = None
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    last_runs: list[RunOut] = Field(default_factory=list)


class ReloadOut(BaseModel):
    loaded: int
    active: int
    with_errors: int
    workflows: list[WorkflowOut]
    # Runbooks are reloaded with the workflows; GET /v1/runbooks describes them.
    runbooks: int = 0
    runbooks_with_errors: int = 0


class ManualRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(default_factory=dict)
    incident_id: str | None = None
