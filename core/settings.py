"""All configuration, read once from FIRELINE_* environment variables.

Nothing else in the code base reads os.environ: pass a Settings object instead.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JWT_SECRET = "change-me"  # noqa: S105 - the sentinel production refuses


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIRELINE_", extra="ignore")

    environment: Literal["embedded", "development", "production"] = "embedded"
    data_dir: Path = Path(".fireline")
    workflows_dir: Path = REPO_ROOT / "yaml_workflows"
    providers_file: Path | None = None
    database_url: str | None = None

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str | None = None

    temporal_host: str = "127.0.0.1"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_ui_url: str | None = None
    task_queue: str = "fireline"
    # Interval workflows are not tied to an incident, so no org can be inferred: each
    # org listed here gets its own schedule per interval workflow (JSON list).
    schedule_orgs: list[str] = ["default"]

    jwt_secret: str = DEFAULT_JWT_SECRET
    # Secrets tokens signed before a rotation were signed with (JSON list): still accepted,
    # so people and scripts keep working while new tokens are issued with jwt_secret.
    jwt_previous_secrets: list[str] = []
    # Fernet key (urlsafe base64, 32 bytes) for secrets stored in the database; embedded
    # mode generates one in the data dir, other modes must set it.
    secret_key: str | None = None

    # Ingestion limits (DESIGN §5).
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 64 * 1024 * 1024
    ingest_rate: float = 50.0  # requests per second per org
    ingest_burst: int = 100
    max_stored_payload_bytes: int = 64 * 1024
    dispatch_poll_seconds: float = 1.0
    # The ServiceNow assignment group an escalated session hands its ticket to, for
    # runbooks that name none (`escalation_group`).
    servicenow_escalation_group: str | None = None
    # Triage every new or re-opened incident (DESIGN §12); off, incidents wait for people.
    triage_enabled: bool = True
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.jwt_secret == DEFAULT_JWT_SECRET:
            raise ValueError(
                "FIRELINE_JWT_SECRET is the default; set a long random secret before "
                "running with FIRELINE_ENVIRONMENT=production"
            )
        return self

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.resolved_data_dir / 'fireline.db'}"

    @property
    def resolved_providers_file(self) -> Path:
        return self.providers_file or self.resolved_data_dir / "providers.yaml"

    @property
    def resolved_temporal_address(self) -> str:
        return self.temporal_address or f"{self.temporal_host}:{self.temporal_port}"

    @property
    def resolved_public_url(self) -> str:
        return self.public_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def resolved_temporal_ui_url(self) -> str:
        return self.temporal_ui_url or f"http://{self.temporal_host}:{self.temporal_ui_port}"

    def effective_jwt_secret(self) -> str:
        """The signing secret; embedded mode generates one and keeps it in the data dir."""
        if self.jwt_secret != DEFAULT_JWT_SECRET or self.environment != "embedded":
            return self.jwt_secret
        secret_file = self.resolved_data_dir / "jwt_secret"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(48))
            secret_file.chmod(0o600)
        return secret_file.read_text().strip()

    def effective_secret_key(self) -> str:
        """The Fernet key; embedded mode generates one and keeps it in the data dir."""
        if self.secret_key:
            return self.secret_key
        if self.environment != "embedded":
            raise ValueError(
                "FIRELINE_SECRET_KEY is not set; generate one with "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`"
            )
        key_file = self.resolved_data_dir / "secret_key"
        if not key_file.exists():
            key_file.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
            key_file.chmod(0o600)
        return key_file.read_text().strip()


def load_settings() -> Settings:
    return Settings()


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env_refs(text: str) -> str:
    """Replace ${NAME} with the environment variable NAME (missing: a clear error)."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        return os.environ[name]

    return _ENV_REF.sub(lookup, text)
