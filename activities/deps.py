"""What activities need from the outside world, built once by the worker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.connections import Connection, Connections
from store.db import Database


@dataclass(frozen=True)
class ActivityDeps:
    db: Database
    providers_file: Path

    def connection(self, name: str | None, provider_type: str) -> Connection:
        """Read on every call, so an edited providers file applies without a restart."""
        return Connections.load(self.providers_file).get(name or provider_type, provider_type)
