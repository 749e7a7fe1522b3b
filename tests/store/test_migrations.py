"""Alembic builds the schema the models describe, and migrating twice is harmless."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from store.db import Database
from store.models import Base
from tests.store.databases import postgres_database, postgres_url

HEAD = "0010_idempotent_requests"


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_schema_differences) == []


async def test_migrate_again_is_a_no_op(db: Database) -> None:
    await db.migrate()
    async with db.read_session() as session:
        versions = (await session.execute(text("SELECT version_num FROM alembic_version"))).all()
    assert versions == [(HEAD,)]


async def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(db: Database) -> None:
    if not db.is_sqlite:
        return
    async with db.read_session() as session:
        pragmas = [
            (await session.execute(text(f"PRAGMA {name}"))).scalar_one()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        ]
    assert pragmas == ["wal", 30_000, 1]


async def test_ping(db: Database) -> None:
    await db.ping()


async def test_replicas_migrating_a_new_postgresql_database_at_once_all_succeed() -> None:
    server_url = postgres_url()
    if server_url is None:
        pytest.skip("set FIRELINE_TEST_POSTGRES_URL to run against PostgreSQL")
    async with postgres_database(server_url, migrate=False) as first:
        replicas = [Database(first.url) for _ in range(3)]
        try:
            await asyncio.gather(first.migrate(), *(replica.migrate() for replica in replicas))
        finally:
            for replica in replicas:
                await replica.dispose()
        async with first.read_session() as session:
            versions = (
                await session.execute(text("SELECT version_num FROM alembic_version"))
            ).all()
        assert versions == [(HEAD,)]
