"""Bodies of the org settings endpoints (snake_case, as the issue names them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.org_settings import ExecutionMode


class ExecutionModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: ExecutionMode
    auto_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        strict=True,
        description="Match confidence from which `auto` runs without asking; "
        "omit to keep the current value (default 0.8)",
    )


class ExecutionModeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    mode: ExecutionMode
    auto_threshold: float
    updated_at: datetime | None = Field(description="null while the org uses the defaults")


class ListColumnsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = Field(
        max_length=12,
        description="Enrichment keys, in order, shown as columns of the console's incident "
        "list: `ticket_id` links to `ticket_url`; `target_project` and `priority` are badges",
    )


class ListColumnsOut(BaseModel):
    columns: list[str]
