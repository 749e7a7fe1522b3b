"""Is each part Fireline needs reachable?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio.client import Client

from store.db import Database


@dataclass(frozen=True)
class HealthReport:
    database: str
    temporal: str

    @property
    def ok(self) -> bool:
        return self.database == "ok" and self.temporal == "ok"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "unavailable",
            "database": self.database,
            "temporal": self.temporal,
        }


async def check_health(db: Database, client: Client | None) -> HealthReport:
    return HealthReport(database=await _database(db), temporal=await _temporal(client))


async def _database(db: Database) -> str:
    try:
        await db.ping()
    except Exception as err:  # any failure means "not reachable"; say which
        return f"unreachable: {type(err).__name__}"
    return "ok"


async def _temporal(client: Client | None) -> str:
    if client is None:
        return "not connected yet"
    try:
        await client.service_client.check_health()
    except Exception as err:
        return f"unreachable: {type(err).__name__}"
    return "ok"
