"""Bodies of the infrastructure connection endpoints.

Fields are camelCase (snake_case accepted too). A credential is write-only: it is sent
in `credential`, and answers only say `hasCredential` and `credentialKind`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

from services.connections import (
    KEEP_CREDENTIAL,
    ConnectionKind,
    ConnectionSpec,
    Credential,
    CredentialKind,
    KeepCredential,
)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True, alias_generator=to_camel, populate_by_name=True)


class CredentialIn(_Input):
    """A password (ssh, http, db) or a private key's text (ssh), with its passphrase."""

    kind: Literal["password", "private_key"]
    secret: SecretStr
    passphrase: SecretStr | None = None

    def credential(self) -> Credential:
        passphrase = self.passphrase.get_secret_value() if self.passphrase is not None else None
        return Credential(
            kind=CredentialKind(self.kind),
            secret=self.secret.get_secret_value(),
            passphrase=passphrase,
        )


class _ConnectionFieldsIn(_Input):
    kind: ConnectionKind
    host: str | None = None
    port: int | None = None
    username: str | None = None
    tags: list[str] = Field(default_factory=list)
    environment: str | None = None
    host_key: str | None = Field(
        None, description='The host\'s public key line, e.g. "ssh-ed25519 AAAA..." (ssh)'
    )
    known_hosts: str | None = Field(
        None, description="known_hosts text for the host, e.g. ssh-keyscan's output (ssh)"
    )
    database: str | None = Field(
        None,
        description="db: the PostgreSQL database name (with host, username and a password "
        "credential), or with no host the absolute path of a SQLite file on the worker",
    )

    def spec(self) -> ConnectionSpec:
        return ConnectionSpec(
            kind=self.kind,
            host=self.host,
            port=self.port,
            username=self.username,
            tags=tuple(self.tags),
            environment=self.environment,
            host_key=self.host_key,
            known_hosts=self.known_hosts,
            database=self.database,
        )


class ConnectionCreateIn(_ConnectionFieldsIn):
    name: str = Field(description="Unique in the org: [a-z0-9][a-z0-9_.-]{0,62}")
    credential: CredentialIn | None = None


class ConnectionUpdateIn(_ConnectionFieldsIn):
    """Replaces every field. Without `credential` the stored one is kept; null removes it."""

    credential: CredentialIn | None = Field(
        None,
        description="Omit to keep the stored credential; null to remove it; "
        "an object to replace it",
    )

    def credential_change(self) -> Credential | KeepCredential | None:
        if "credential" not in self.model_fields_set:
            return KEEP_CREDENTIAL
        return None if self.credential is None else self.credential.credential()


class ConnectionOut(_Output):
    """A connection as anyone in the org may see it: never its credential."""

    name: str
    kind: ConnectionKind
    host: str | None
    port: int | None
    username: str | None
    tags: list[str]
    environment: str | None
    host_key: str | None
    known_hosts: str | None
    database: str | None
    has_credential: bool
    credential_kind: CredentialKind
    created_at: datetime
    updated_at: datetime


class ConnectionListOut(_Output):
    items: list[ConnectionOut]


class ConnectionCheckOut(_Output):
    """The outcome of a test connection. null: the kind has no such step."""

    reachable: bool
    host_key_ok: bool | None
    authenticated: bool | None
    fingerprint: str | None
    error: str | None
