"""Dialect-specific statements that SQLAlchemy core does not abstract."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Result, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert_insert(session: AsyncSession, model: type[Any]) -> Any:
    """An INSERT that supports `.on_conflict_do_nothing()` on SQLite and PostgreSQL."""
    return _dialect_insert(session.get_bind().dialect.name, model)


def _dialect_insert(dialect: str, target: Any) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(target)
    if dialect == "sqlite":
        return sqlite.insert(target)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


async def insert_if_absent(
    session: AsyncSession, model: type[Any], key: tuple[str, ...], values: Mapping[str, Any]
) -> bool:
    """INSERT `values` unless a row with the same `key` columns exists; True if inserted."""
    statement = _insert_if_absent(session.get_bind().dialect.name, model.__table__, key)
    return (await session.execute(statement, dict(values))).first() is not None


@functools.cache
def _insert_if_absent(dialect: str, table: Any, key: tuple[str, ...]) -> Any:
    # Built once per table: building a statement with its values took longer than
    # running it, all of it while SQLite's only writer is held.
    columns = [table.c[name] for name in key]
    statement: Any = _dialect_insert(dialect, table)
    return statement.on_conflict_do_nothing(index_elements=columns).returning(*columns)


async def insert_rows(
    session: AsyncSession, model: type[Any], rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT `rows` (each with the same columns) in one statement, unlike `session.add`:
    the unit of work's bookkeeping cost more than the inserts, with SQLite's writer held."""
    if rows:
        await session.execute(_insert(model.__table__), list(rows))


@functools.cache
def _insert(table: Any) -> Any:
    return insert(table)


def affected_rows(result: Result[Any]) -> int:
    """Rows changed by an INSERT/UPDATE/DELETE (execute() is typed as a plain Result)."""
    return int(cast(CursorResult[Any], result).rowcount)
