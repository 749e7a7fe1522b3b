"""Migrated test databases: a SQLite file, or a fresh PostgreSQL database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from store.db import Database

POSTGRES_URL_ENV = "FIRELINE_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_URL_ENV) or None


@asynccontextmanager
async def migrated(url: str) -> AsyncIterator[Database]:
    db = Database(url)
    try:
        await db.migrate()
        yield db
    finally:
        await db.dispose()


@asynccontextmanager
async def sqlite_database(directory: Path) -> AsyncIterator[Database]:
    async with migrated(f"sqlite+aiosqlite:///{directory / 'fireline.db'}") as db:
        yield db


@asynccontextmanager
async def postgres_database(server_url: str, *, migrate: bool = True) -> AsyncIterator[Database]:
    """CREATE a uniquely named database on the server, migrate it (unless told not to),
    DROP it afterwards."""
    name = f"fireline_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
            if not migrate:
                db = Database(url)
                try:
                    yield db
                finally:
                    await db.dispose()
                return
            async with migrated(url) as db:
                yield db
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
