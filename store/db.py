"""The application database: one async engine, sessions that are one transaction each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connections a process keeps open on PostgreSQL, opened on demand, and how many more it
# opens at a peak. SQLAlchemy's default (5) closed the connections a busier moment had
# opened as soon as they came back, so an ingest at 16 concurrent requests paid a new
# server backend for most of its transactions. docs/production.md sizes max_connections.
POSTGRES_POOL_SIZE = 20
POSTGRES_MAX_OVERFLOW = 10
_READ_ONLY = "fireline_read_only"
_MIGRATION_LOCK = 0x46495245  # "FIRE": any constant, the same in every Fireline process


class Database:
    """Owns the engine; `session()` writes, `read_session()` only reads."""

    def __init__(self, url: str) -> None:
        self.url = url
        pool = {}
        if url.startswith("postgresql"):
            pool = {"pool_size": POSTGRES_POOL_SIZE, "max_overflow": POSTGRES_MAX_OVERFLOW}
        self.engine: AsyncEngine = create_async_engine(url, **pool)
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine)
        self._write_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(
            self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False
        )
        # SQLite has one writer. Queueing this process's writers here, in order, beats
        # letting each poll the file lock with SQLite's growing busy sleeps: under load
        # those sleeps, not the writes, made the tail latency.
        self._sqlite_writer = asyncio.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision, then rebuild the projections
        when a revision needs them recomputed from the events (store.migrate)."""
        from store.incidents import rebuild_all
        from store.migrate import upgrade_to_head

        async with self.engine.begin() as connection:
            if not self.is_sqlite:
                # API replicas starting together: one migrates, the others wait for its
                # commit and then find the schema current (the lock ends with the commit).
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                )
            needs_rebuild = await connection.run_sync(upgrade_to_head)
        if needs_rebuild:
            async with self.session() as session:
                await rebuild_all(session)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One writing transaction: commit when the block ends, roll back on error.

        Never open a writing session inside another one: on SQLite that waits forever.
        """
        if self._sqlite_writer is None:
            async with self._write_sessions() as session, session.begin():
                yield session
            return
        async with self._sqlite_writer, self._write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """One reading transaction; writing in it may fail on SQLite (lock upgrade)."""
        async with self._read_sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query."""
        async with self.read_session() as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    # The API and the worker write the same file. WAL lets readers run beside the
    # writer; BEGIN IMMEDIATE takes the write lock up front, so two read-then-write
    # transactions wait for each other (busy_timeout) instead of failing with
    # "database is locked" when both try to upgrade a shared lock.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
