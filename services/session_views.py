"""What the session use cases answer: a started session, a list row, a session in full."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.session_models import SessionState, SessionTarget


@dataclass(frozen=True)
class StartedSession:
    session_id: str
    runbook_id: str
    incident_id: str
    number: int
    requester: str
    status: str
    mode: str
    auto_threshold: float
    approve_every_step: bool
    confidence: float
    reasons: list[str]
    target: SessionTarget
    temporal_ui_url: str


@dataclass(frozen=True)
class SessionSummary:
    """A row of the session list, with the session's live status from Temporal."""

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


@dataclass(frozen=True)
class SessionDetail:
    state: SessionState
    confidence: float | None  # None for a session started outside the API (no row)
    temporal_status: str
    temporal_ui_url: str
