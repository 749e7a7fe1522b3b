"""Runbook sessions on a real Temporal server, with the real worker and a real SQLite file.

`ts_rig`: the time-skipping test server (timers of hours pass at once while a test waits
for a result). `dev_rig`: the session's dev server, where real time matters (a cancel
request reaching a running command, a worker stopped mid-step).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from tests.store.databases import sqlite_database
from tests.workflows.sessions import SessionRig
from workflows.names import SEARCH_ATTRIBUTES


async def register_search_attributes(env: WorkflowEnvironment) -> None:
    """The dev server gets them on its command line; the test server through this call."""
    keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={key.name: keyword for key in SEARCH_ATTRIBUTES},
        )
    )


@pytest.fixture
async def ts_rig(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[SessionRig]:
    await register_search_attributes(time_skipping_env)
    async with sqlite_database(tmp_path) as db:
        yield SessionRig.create(time_skipping_env, db, tmp_path)


@pytest.fixture
async def dev_rig(temporal_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[SessionRig]:
    async with sqlite_database(tmp_path) as db:
        yield SessionRig.create(temporal_env, db, tmp_path)
