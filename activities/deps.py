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
    # Where people reach the API (links in notifications); None: links are relative.
    public_url: str | None = None

    def connection(self, name: str | None, provider_type: str) -> Connection:
        """Read on every call, so an edited providers file applies without a restart."""
        return Connections.load(self.providers_file).get(name or provider_type, provider_type)

    def has_connection(self, name: str, provider_type: str) -> bool:
        """Whether the providers file names `name` with that type (no secrets read)."""
        return Connections.load(self.providers_file).describe().get(name) == provider_type

    def link(self, path: str) -> str:
        """An absolute URL of the API for `path` ("/v1/...") when the public URL is known."""
        return (self.public_url or "").rstrip("/") + path
