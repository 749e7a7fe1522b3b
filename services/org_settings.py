"""Per-org settings: how runbook sessions run (execution mode), and which enrichments
the console's incident list shows as columns.

`hil` (human in the loop, the default): every step that changes something waits for an
approval. `auto`: when the runbook matched the incident with a confidence of at least
`auto_threshold`, steps not marked `requires_approval` run without asking.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.errors import FieldErrors, InvalidInputError
from store import org_settings
from store.db import Database
from store.org_settings import OrgSettingsRecord

DEFAULT_AUTO_THRESHOLD = 0.8
# The ticket written back by the ticketing workflows, and the form document's ACME fields.
DEFAULT_LIST_COLUMNS = ("ticket_id", "target_project", "priority")
MAX_LIST_COLUMNS = 12
ENRICHMENT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")


class ExecutionMode(StrEnum):
    HIL = "hil"
    AUTO = "auto"


@dataclass(frozen=True)
class ExecutionSettings:
    mode: ExecutionMode
    auto_threshold: float
    updated_at: datetime | None  # None: never changed, the defaults apply


DEFAULTS = ExecutionSettings(
    mode=ExecutionMode.HIL, auto_threshold=DEFAULT_AUTO_THRESHOLD, updated_at=None
)

# What a row created by another setting holds for the execution mode.
ROW_DEFAULTS = {"execution_mode": DEFAULTS.mode.value, "auto_threshold": DEFAULTS.auto_threshold}


class OrgSettingsService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_execution_mode(self, *, org_id: str) -> ExecutionSettings:
        async with self._db.read_session() as session:
            record = await org_settings.get_org_settings(session, org_id)
        return DEFAULTS if record is None else _settings(record)

    async def set_execution_mode(
        self, *, org_id: str, mode: ExecutionMode | str, auto_threshold: float | None = None
    ) -> ExecutionSettings:
        """Set the mode; without `auto_threshold` the org's current threshold is kept."""
        checked_mode = _checked_mode(mode)
        if auto_threshold is not None:
            _check_threshold(auto_threshold)
        async with self._db.session() as session:
            if auto_threshold is None:
                current = await org_settings.get_org_settings(session, org_id)
                auto_threshold = (
                    DEFAULT_AUTO_THRESHOLD if current is None else current.auto_threshold
                )
            record = await org_settings.put_execution_mode(
                session, org_id, execution_mode=checked_mode.value, auto_threshold=auto_threshold
            )
        return _settings(record)

    async def list_columns(self, *, org_id: str) -> list[str]:
        async with self._db.read_session() as session:
            record = await org_settings.get_org_settings(session, org_id)
        if record is None or record.list_columns is None:
            return list(DEFAULT_LIST_COLUMNS)
        return list(record.list_columns)

    async def set_list_columns(self, *, org_id: str, columns: list[str]) -> list[str]:
        """The enrichment keys, in order, that the incident list shows as columns."""
        problems = _column_problems(columns)
        if problems:
            raise FieldErrors(problems)
        async with self._db.session() as session:
            await org_settings.put_list_columns(session, org_id, columns, defaults=ROW_DEFAULTS)
        return columns


def _column_problems(columns: list[str]) -> list[tuple[tuple[str | int, ...], str]]:
    if len(columns) > MAX_LIST_COLUMNS:
        return [(("body", "columns"), f"at most {MAX_LIST_COLUMNS} columns")]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for index, key in enumerate(columns):
        if not ENRICHMENT_KEY.fullmatch(key):
            problems.append(((("body", "columns", index)), f"'{key}' is not an enrichment key"))
        elif key in columns[:index]:
            problems.append(((("body", "columns", index)), f"'{key}' is listed twice"))
    return problems


def _settings(record: OrgSettingsRecord) -> ExecutionSettings:
    return ExecutionSettings(
        mode=ExecutionMode(record.execution_mode),
        auto_threshold=record.auto_threshold,
        updated_at=record.updated_at,
    )


def _checked_mode(mode: ExecutionMode | str) -> ExecutionMode:
    try:
        return ExecutionMode(mode)
    except ValueError:
        choices = ", ".join(m.value for m in ExecutionMode)
        raise InvalidInputError(f"mode: must be one of {choices}") from None


def _check_threshold(threshold: float) -> None:
    # bool is an int: True would silently mean 1.0.
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise InvalidInputError("auto_threshold: must be a number from 0 to 1")
    if not math.isfinite(threshold) or not 0.0 <= threshold <= 1.0:
        raise InvalidInputError("auto_threshold: must be a number from 0 to 1")
