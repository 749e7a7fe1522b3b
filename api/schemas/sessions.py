"""Request and response bodies of the runbook session endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from workflows.session_models import SessionState, SessionTarget

ConnectionName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]


class SessionStartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(default_factory=dict)
    # Run on this connection instead of the one the runbook and the incident point to.
    connection: ConnectionName | None = None


class TargetOut(BaseModel):
    connection: str | None  # None: on the worker (local)
    host: str | None
    rule: str  # which rule chose it

    @classmethod
    def of(cls, target: SessionTarget) -> TargetOut:
        return cls(connection=target.connection, host=target.host, rule=target.rule)


class SessionLinksOut(BaseModel):
    self: str
    stream: str
    cancel: str

    @classmethod
    def of(cls, session_id: str) -> SessionLinksOut:
        base = f"/v1/sessions/{quote(session_id, safe=':')}"
        return cls(self=base, stream=f"{base}/stream", cancel=f"{base}/cancel")


class SessionStartedOut(BaseModel):
    session_id: str
    runbook_id: str
    incident_id: str
    number: int
    requester: str
    status: str
    mode: str
    auto_threshold: float
    approve_every_step: bool  # hil, or auto below the threshold: every step asks
    confidence: float
    reasons: list[str]  # why the runbook fits the incident (or not)
    target: TargetOut
    temporal_ui_url: str
    links: SessionLinksOut


class SessionSummaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session_id: str
    incident_id: str | None
    runbook_id: str
    number: int
    requester: str
    plan_hash: str
    mode: str
    confidence: float
    target_connection: str | None
    target_rule: str
    created_at: datetime
    status: str
    pending_step: str | None
    temporal_status: str
    temporal_ui_url: str


class SessionOut(SessionState):
    """The session's state (the workflow's `state` query), and where Temporal shows it."""

    temporal_status: str
    temporal_ui_url: str
    links: SessionLinksOut
