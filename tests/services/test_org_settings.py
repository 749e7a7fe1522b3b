"""Execution mode per org: defaults, changes, and refused values that change nothing."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy import text

from core.errors import InvalidInputError
from services.org_settings import (
    DEFAULT_AUTO_THRESHOLD,
    ExecutionMode,
    ExecutionSettings,
    OrgSettingsService,
)
from store.db import Database


@pytest.fixture
def service(db: Database) -> OrgSettingsService:
    return OrgSettingsService(db)


async def raw_rows(db: Database) -> list[dict[str, Any]]:
    async with db.read_session() as session:
        result = await session.execute(text("SELECT * FROM org_settings ORDER BY org_id"))
        return [dict(row) for row in result.mappings()]


async def test_an_org_that_never_chose_gets_hil_and_0_8(
    service: OrgSettingsService, db: Database
) -> None:
    settings = await service.get_execution_mode(org_id="acme")
    assert settings == ExecutionSettings(ExecutionMode.HIL, 0.8, None)
    assert DEFAULT_AUTO_THRESHOLD == 0.8
    assert await raw_rows(db) == []  # reading writes nothing


async def test_set_then_get_returns_what_was_set_for_that_org_only(
    service: OrgSettingsService,
) -> None:
    stored = await service.set_execution_mode(org_id="acme", mode="auto", auto_threshold=0.65)
    assert (stored.mode, stored.auto_threshold) == (ExecutionMode.AUTO, 0.65)
    assert stored.updated_at is not None
    assert await service.get_execution_mode(org_id="acme") == stored
    assert (await service.get_execution_mode(org_id="globex")).mode is ExecutionMode.HIL


async def test_without_a_threshold_the_current_one_is_kept(service: OrgSettingsService) -> None:
    first = await service.set_execution_mode(org_id="acme", mode=ExecutionMode.HIL)
    assert first.auto_threshold == 0.8
    await service.set_execution_mode(org_id="acme", mode="auto", auto_threshold=0.95)
    switched = await service.set_execution_mode(org_id="acme", mode="hil")
    assert (switched.mode, switched.auto_threshold) == (ExecutionMode.HIL, 0.95)


@pytest.mark.parametrize("threshold", [0, 1, 0.0, 1.0])
async def test_the_bounds_are_accepted(service: OrgSettingsService, threshold: float) -> None:
    stored = await service.set_execution_mode(org_id="acme", mode="auto", auto_threshold=threshold)
    assert stored.auto_threshold == threshold


@pytest.mark.parametrize("threshold", [-0.01, 1.01, math.nan, math.inf, True, "0.5"])
async def test_a_threshold_outside_0_to_1_changes_nothing(
    service: OrgSettingsService, db: Database, threshold: Any
) -> None:
    await service.set_execution_mode(org_id="acme", mode="auto", auto_threshold=0.7)
    before = await raw_rows(db)
    with pytest.raises(InvalidInputError, match="auto_threshold: must be a number from 0 to 1"):
        await service.set_execution_mode(org_id="acme", mode="hil", auto_threshold=threshold)
    assert await raw_rows(db) == before


@pytest.mark.parametrize("mode", ["manual", "AUTO", ""])
async def test_an_unknown_mode_changes_nothing(
    service: OrgSettingsService, db: Database, mode: str
) -> None:
    with pytest.raises(InvalidInputError, match="mode: must be one of hil, auto"):
        await service.set_execution_mode(org_id="acme", mode=mode, auto_threshold=0.5)
    assert await raw_rows(db) == []
