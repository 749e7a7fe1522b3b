"""Dialect-specific statements that SQLAlchemy core does not abstract."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert_insert(session: AsyncSession, model: type[Any]) -> Any:
    """An INSERT that supports `.on_conflict_do_nothing()` on SQLite and PostgreSQL."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


def affected_rows(result: Result[Any]) -> int:
    """Rows changed by an INSERT/UPDATE/DELETE (execute() is typed as a plain Result)."""
    return int(cast(CursorResult[Any], result).rowcount)
