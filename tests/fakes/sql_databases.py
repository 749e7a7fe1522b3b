"""Scratch databases for the `db` provider tests: a SQLite file, or on the PostgreSQL server
of FIRELINE_TEST_POSTGRES_URL a table owned by a login role made for the test (its own
unique password, so a test can look for that password everywhere). Both are dropped after.

Each holds a table of feature flags: `name` (text, primary key) and `enabled` (integer).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connectors.sql import DbTarget

FLAGS = {"checkout": 1, "search": 1, "banner": 0}


@dataclass
class ScratchDb:
    """A target with a flags table, and a side door to read it that the code under test
    does not use."""

    kind: str  # sqlite | postgresql
    target: DbTarget
    table: str
    _admin: AsyncEngine | None = None

    async def flags(self) -> dict[str, int]:
        return dict(await self.rows(f"SELECT name, enabled FROM {self.table}"))

    async def rows(self, query: str) -> list[tuple[object, ...]]:
        if self._admin is None:
            with sqlite3.connect(self.target.database) as connection:
                return [tuple(row) for row in connection.execute(query)]
        async with self._admin.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query))]

    async def execute(self, statement: str, params: dict[str, object]) -> None:
        """Change the scratch data behind the back of the code under test."""
        if self._admin is None:
            with sqlite3.connect(self.target.database) as connection:
                connection.execute(statement, params)
            connection.close()
            return
        async with self._admin.connect() as connection:
            await connection.execute(text(statement), params)

    async def table_names(self) -> set[str]:
        if self._admin is None:
            found = await self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            found = await self.rows(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename LIKE 'fireline_sql_%'"
            )
        return {str(name) for (name,) in found}


def sqlite_scratch(folder: Path) -> ScratchDb:
    path = folder / "flags.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE flags (name TEXT PRIMARY KEY, enabled INTEGER)")
        connection.executemany("INSERT INTO flags VALUES (?, ?)", FLAGS.items())
    connection.close()
    return ScratchDb(kind="sqlite", target=DbTarget(database=str(path)), table="flags")


@asynccontextmanager
async def postgres_scratch(server_url: str) -> AsyncIterator[ScratchDb]:
    """A table `fireline_sql_<hex>` and a role of the same name that may use only it."""
    name = f"fireline_sql_{uuid.uuid4().hex[:12]}"
    password = f"pw-{uuid.uuid4().hex}-Db!"
    url = make_url(server_url)
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    statements = [
        f"CREATE ROLE {name} LOGIN PASSWORD '{password}'",
        f"CREATE TABLE {name} (name TEXT PRIMARY KEY, enabled INTEGER)",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {name}",
        f"GRANT CREATE ON SCHEMA public TO {name}",
        *(f"INSERT INTO {name} VALUES ('{flag}', {on})" for flag, on in FLAGS.items()),
    ]
    try:
        async with admin.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
        target = DbTarget(
            host=url.host,
            port=url.port or 5432,
            username=name,
            password=password,
            database=str(url.database),
        )
        yield ScratchDb(kind="postgresql", target=target, table=name, _admin=admin)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f"DROP OWNED BY {name} CASCADE"))
            await connection.execute(text(f"DROP TABLE IF EXISTS {name}"))
            await connection.execute(text(f"DROP ROLE IF EXISTS {name}"))
        await admin.dispose()
