"""Per-org triage settings: when a false positive is closed, and the guardrails around
automatic sessions (DESIGN §12).

An org that never changed them uses the defaults. Every automatic start must pass all of:
auto execution mode (`/v1/settings/execution-mode`), not paused, a confidence at or above
the threshold for the incident's severity (`null`: never automatic for that severity;
absent: the org's `auto_threshold`), fewer running automatic sessions than the org and
service caps, and no automatic session of the same runbook on the same service within
the cooldown.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import InvalidInputError, describe_validation_error
from services.org_settings import ROW_DEFAULTS
from store import org_settings
from store.db import Database

Probability = float


class MaintenanceWindow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str | None = Field(None, description="null: every service")
    start: datetime
    end: datetime
    reason: str = Field("maintenance", max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> MaintenanceWindow:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need a time zone, e.g. 2026-12-05T22:00:00Z")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class MatchWeightsSetting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: float = Field(0.45, ge=0, le=1)
    text: float = Field(0.35, ge=0, le=1)
    success: float = Field(0.15, ge=0, le=1)
    recency: float = Field(0.05, ge=0, le=1)

    @model_validator(mode="after")
    def _some_weight(self) -> MatchWeightsSetting:
        if self.criteria + self.text + self.success + self.recency == 0:
            raise ValueError("at least one weight must be above 0")
        return self


class TriageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    close_threshold: Probability = Field(
        0.8, ge=0.5, le=1, allow_inf_nan=False, description="close a false positive from here"
    )
    paused: bool = Field(False, description="true: no automatic session starts at all")
    severity_thresholds: dict[str, Probability | None] = Field(
        default_factory=dict,
        description="per severity: the match confidence for an automatic start, or null "
        "for never; a severity not listed uses the org's auto_threshold",
    )
    max_auto_sessions: int = Field(3, ge=0, le=1000, description="running at once, per org")
    max_auto_sessions_per_service: int = Field(1, ge=0, le=1000)
    cooldown_minutes: int = Field(
        30, ge=0, le=10080, description="before the same runbook runs again on a service"
    )
    weights: MatchWeightsSetting = Field(default_factory=MatchWeightsSetting)
    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list, max_length=200)
    llm_connection: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="a providers-file connection of type llm (an OpenAI-compatible "
        "endpoint) whose vote joins the classification; null: no LLM",
    )

    @model_validator(mode="after")
    def _known_severities(self) -> TriageSettings:
        unknown = sorted(set(self.severity_thresholds) - {"SEV1", "SEV2", "SEV3", "SEV4"})
        if unknown:
            raise ValueError(f"severity_thresholds: unknown severity {', '.join(unknown)}")
        bad = [k for k, v in self.severity_thresholds.items() if v is not None and not 0 <= v <= 1]
        if bad:
            raise ValueError(f"severity_thresholds: {', '.join(bad)} must be from 0 to 1 or null")
        return self


class TriageSettingsService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, *, org_id: str) -> TriageSettings:
        async with self._db.read_session() as session:
            record = await org_settings.get_org_settings(session, org_id)
        return parse_settings(record.triage if record is not None else None)

    async def put(self, *, org_id: str, settings: TriageSettings) -> TriageSettings:
        async with self._db.session() as session:
            await org_settings.put_triage(
                session, org_id, settings.model_dump(mode="json"), defaults=ROW_DEFAULTS
            )
        return settings


def parse_settings(stored: dict[str, object] | None) -> TriageSettings:
    """The stored settings; InvalidInputError should a stored value no longer validate."""
    try:
        return TriageSettings.model_validate(stored or {})
    except ValidationError as err:
        raise InvalidInputError(
            f"stored triage settings: {describe_validation_error(err)}"
        ) from None
