"""Alembic environment: runs on the application's connection, or opens its own."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from store.models import Base

target_metadata = Base.metadata


def run_on_connection(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def configured_url() -> str:
    from core.settings import Settings

    return context.config.get_main_option("sqlalchemy.url") or Settings().resolved_database_url


async def run_with_own_database() -> None:
    from store.db import Database

    database = Database(configured_url())
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(run_on_connection)
    finally:
        await database.dispose()


def run_offline() -> None:
    context.configure(url=configured_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (shared_connection := context.config.attributes.get("connection")) is not None:
    run_on_connection(shared_connection)
else:
    asyncio.run(run_with_own_database())
