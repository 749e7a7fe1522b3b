"""What the API process holds for its lifetime, built once in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.settings import Settings
from store.db import Database


@dataclass
class AppState:
    settings: Settings
    db: Database
    jwt_secret: str
    # Set by the lifespan once Temporal and the workflow registry are up.
    temporal_client: Any = None
    registry: Any = None
    dispatcher: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
