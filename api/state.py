"""What the API process holds for its lifetime, built once in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.secretbox import SecretBox
from core.settings import Settings
from services.rate_limit import RateLimiter
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
    # Ingestion requests per org (FIRELINE_INGEST_RATE / FIRELINE_INGEST_BURST).
    ingest_limiter: RateLimiter = field(init=False)
    # Encrypts the secrets kept in the database (webhook secrets).
    secrets: SecretBox = field(init=False)

    @property
    def jwt_accepted(self) -> tuple[str, ...]:
        """The secrets a token may be signed with: the current one, then earlier ones."""
        return (self.jwt_secret, *self.settings.jwt_previous_secrets)

    def __post_init__(self) -> None:
        self.ingest_limiter = RateLimiter(self.settings.ingest_rate, self.settings.ingest_burst)
        self.secrets = SecretBox(self.settings.effective_secret_key())
