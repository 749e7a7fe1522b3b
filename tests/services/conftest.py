"""Service tests run on SQLite always, and on PostgreSQL when FIRELINE_TEST_POSTGRES_URL is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from store.db import Database
from tests.store.databases import POSTGRES_URL_ENV, postgres_database, postgres_url, sqlite_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        async with sqlite_database(tmp_path) as database:
            yield database
        return
    server_url = postgres_url()
    if server_url is None:
        pytest.skip(f"set {POSTGRES_URL_ENV} to run against PostgreSQL")
    async with postgres_database(server_url) as database:
        yield database
