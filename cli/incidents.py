"""`fireline incidents rebuild`: recompute every incident snapshot from its events."""

from __future__ import annotations

import asyncio

from rich.console import Console

from core.settings import Settings
from store.db import Database
from store.incidents import rebuild_all
from store.records import RebuildResult


async def rebuild(database_url: str) -> RebuildResult:
    db = Database(database_url)
    try:
        await db.migrate()
        async with db.session() as session:
            return await rebuild_all(session)
    finally:
        await db.dispose()


def rebuild_command() -> int:
    result = asyncio.run(rebuild(Settings().resolved_database_url))
    Console().print(
        f"Rebuilt {result.rebuilt} incident snapshot(s) from their events; "
        f"{result.changed} differed and were rewritten."
    )
    return 0
