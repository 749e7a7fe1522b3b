"""Infrastructure connections: where runbook commands run, and the credentials to get there.

Credentials are write-only: they are stored as Fernet ciphertext (SecretBox) and leave
this service only inside an `SshTarget`, for the activity that connects. Views say
whether a credential is set and of which kind, never what it is; error messages never
quote it.

An SSH connection needs the host's key up front (a pinned key line or known_hosts
text): a host key is never trusted on first use.

A db connection is PostgreSQL (host, port 5432 by default, username, password credential,
`database` = the database name) or, with no host, a SQLite file (`database` = its absolute
path on the worker, no credential). `resolve_db_target` refuses the files of Fireline's
own data (its data directory, its SQLite database): a runbook must not read other orgs'
rows or the stored credentials through a db step.

A servicenow connection is an org's own instance (host, port 443 by default, the
integration account's username and password): `servicenow` workflow steps use it when
the providers file has no connection of that name.

`update` replaces every field; the credential is kept unless one is given
(`credential=None` removes it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from connectors import ssh
from connectors.commands import CommandConnectorError
from connectors.servicenow import ServiceNowConnection
from connectors.sql import DbConnectorError, DbTarget, check_database
from connectors.ssh import SshTarget
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.secretbox import SecretBox
from services.connection_rules import (
    DEFAULT_PORTS,
    NAME,
    ConnectionKind,
    ConnectionSpec,
    Credential,
    CredentialKind,
    check_kept_credential,
    checked_fields,
    refuse_protected,
)
from store import connections
from store.connections import (
    KEEP_CREDENTIAL,
    NO_CREDENTIAL,
    ConnectionFields,
    ConnectionRecord,
    KeepCredential,
    StoredCredential,
)
from store.db import Database

__all__ = [
    "KEEP_CREDENTIAL",
    "ConnectionCheck",
    "ConnectionKind",
    "ConnectionService",
    "ConnectionSpec",
    "ConnectionView",
    "Credential",
    "CredentialKind",
    "KeepCredential",
]
DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class ConnectionView:
    """What anyone in the org may see of a connection: never its credential."""

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


@dataclass(frozen=True)
class ConnectionCheck:
    """How far a test connection got. `None`: the kind has no such step (no host key)."""

    reachable: bool
    host_key_ok: bool | None
    authenticated: bool | None
    fingerprint: str | None
    error: str | None


class ConnectionService:
    def __init__(
        self,
        db: Database,
        secrets: SecretBox,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        self._db = db
        self._secrets = secrets
        self._connect_timeout = connect_timeout

    async def create(
        self,
        *,
        org_id: str,
        name: str,
        spec: ConnectionSpec,
        credential: Credential | None = None,
    ) -> ConnectionView:
        """A new connection; ConflictError when the org already has one of that name."""
        fields, stored = await self._validated(spec, credential, name=name)
        async with self._db.session() as session:
            record = await connections.insert_connection(
                session, org_id=org_id, name=name, fields=fields, credential=stored
            )
        if record is None:
            raise ConflictError(
                f"connection '{name}' already exists; change it with PUT /v1/connections/{name}"
            )
        return _view(record)

    async def update(
        self,
        *,
        org_id: str,
        name: str,
        spec: ConnectionSpec,
        credential: Credential | KeepCredential | None = KEEP_CREDENTIAL,
    ) -> ConnectionView:
        """Replace the connection's fields; its credential is kept unless one is given."""
        current = await self._record(org_id, name)
        stored: StoredCredential | KeepCredential
        if credential is KEEP_CREDENTIAL:
            fields, _ = await self._validated(spec, None, name=name)
            # The kept credential must still suit the kind, which may have changed.
            check_kept_credential(fields, current.credential_kind)
            stored = KEEP_CREDENTIAL
        else:
            fields, stored = await self._validated(spec, credential, name=name)
        async with self._db.session() as session:
            record = await connections.update_connection(
                session, org_id=org_id, name=name, fields=fields, credential=stored
            )
        if record is None:  # deleted meanwhile
            raise _not_found(name)
        return _view(record)

    async def get(self, *, org_id: str, name: str) -> ConnectionView:
        return _view(await self._record(org_id, name))

    async def list(self, *, org_id: str) -> list[ConnectionView]:
        async with self._db.read_session() as session:
            records = await connections.list_connections(session, org_id)
        return [_view(record) for record in records]

    async def delete(self, *, org_id: str, name: str) -> None:
        deleted = False
        if NAME.fullmatch(name):
            async with self._db.session() as session:
                deleted = await connections.delete_connection(session, org_id, name)
        if not deleted:
            raise _not_found(name)

    async def test(self, *, org_id: str, name: str) -> ConnectionCheck:
        """Try the connection: reachability, and for SSH and db the login (SSH: the host key).

        A failed check is an answer, not an error; only an unknown name raises.
        """
        record = await self._record(org_id, name)
        kind = ConnectionKind(record.kind)
        if kind is ConnectionKind.LOCAL:
            return ConnectionCheck(True, None, None, None, None)
        if kind is ConnectionKind.SSH:
            return await self._check_ssh(record)
        if kind is ConnectionKind.DB:
            return await self._check_db(record)
        return await _check_tcp(record, self._connect_timeout)

    async def resolve_ssh_target(
        self, org_id: str, name: str, *, connect_timeout: float | None = None
    ) -> SshTarget:
        """The decrypted target of an SSH connection, for the code that connects.

        NotFoundError for an unknown name, InvalidInputError for another kind; the
        connector's errors when the connection cannot be used (no credential).
        """
        record = await self._record(org_id, name)
        if record.kind != ConnectionKind.SSH:
            raise InvalidInputError(
                f"connection '{name}' is of kind {record.kind}, not ssh; "
                "a runbook target that runs commands over SSH needs an ssh connection"
            )
        return await self._ssh_target(record, connect_timeout or self._connect_timeout)

    async def resolve_db_target(
        self,
        org_id: str,
        name: str,
        *,
        protected_paths: Sequence[Path] = (),
        connect_timeout: float | None = None,
    ) -> DbTarget:
        """The decrypted target of a db connection, for the code that connects.

        NotFoundError for an unknown name; InvalidInputError for another kind, and for a
        SQLite file at or under one of `protected_paths` (Fireline's own data).
        """
        record = await self._record(org_id, name)
        if record.kind != ConnectionKind.DB:
            raise InvalidInputError(
                f"connection '{name}' is of kind {record.kind}, not db; "
                "a db step needs a connection of kind db (see POST /v1/connections)"
            )
        if record.host is None and record.database is not None:
            refuse_protected(name, record.database, protected_paths)
        return self._db_target(record, connect_timeout or self._connect_timeout)

    async def resolve_servicenow(self, org_id: str, name: str) -> ServiceNowConnection:
        """The decrypted sign-in of a servicenow connection (HTTPS to host:port).

        NotFoundError for an unknown name; InvalidInputError for another kind or a
        connection without its password.
        """
        record = await self._record(org_id, name)
        if record.kind != ConnectionKind.SERVICENOW:
            raise InvalidInputError(
                f"connection '{name}' is of kind {record.kind}, not servicenow; "
                "a servicenow step needs a connection of kind servicenow"
            )
        password = self._decrypt(record.credential_ciphertext)
        if password is None:
            raise InvalidInputError(
                f"connection '{name}' has no password; set its credential "
                f"(PUT /v1/connections/{name})"
            )
        port = "" if record.port in (None, 443) else f":{record.port}"
        return ServiceNowConnection(
            url=f"https://{record.host}{port}", username=record.username, password=password
        )

    async def _check_db(self, record: ConnectionRecord) -> ConnectionCheck:
        try:
            target = self._db_target(record, self._connect_timeout)
        except DbConnectorError as err:
            return ConnectionCheck(False, None, False, None, err.message)
        result = await check_database(target)
        return ConnectionCheck(result.reachable, None, result.authenticated, None, result.error)

    def _db_target(self, record: ConnectionRecord, connect_timeout: float) -> DbTarget:
        assert record.database is not None  # checked on save
        return DbTarget(
            database=record.database,
            host=record.host,
            port=record.port or DEFAULT_PORTS[ConnectionKind.DB],
            username=record.username,
            password=self._decrypt(record.credential_ciphertext),
            connect_timeout=connect_timeout,
        )

    async def _check_ssh(self, record: ConnectionRecord) -> ConnectionCheck:
        try:
            target = await self._ssh_target(record, self._connect_timeout)
        except CommandConnectorError as err:
            # No credential, or one the connector cannot load: nothing was tried.
            return ConnectionCheck(False, False, False, None, err.message)
        result = await ssh.check_host(target)
        return ConnectionCheck(
            reachable=result.reachable,
            host_key_ok=result.host_key_ok,
            authenticated=result.authenticated,
            fingerprint=result.fingerprint,
            error=result.error,
        )

    async def _ssh_target(self, record: ConnectionRecord, connect_timeout: float) -> SshTarget:
        assert record.host is not None and record.username is not None  # checked on save
        secret = self._decrypt(record.credential_ciphertext)
        is_key = record.credential_kind == CredentialKind.PRIVATE_KEY
        # In a thread: loading a passphrase-protected key may take a second of CPU.
        return await asyncio.to_thread(
            SshTarget,
            host=record.host,
            port=record.port or DEFAULT_PORTS[ConnectionKind.SSH],
            username=record.username,
            password=None if is_key else secret,
            private_key=secret if is_key else None,
            passphrase=self._decrypt(record.credential_passphrase_ciphertext),
            known_hosts=record.known_hosts,
            pinned_host_key=record.host_key,
            connect_timeout=connect_timeout,
        )

    def _decrypt(self, ciphertext: str | None) -> str | None:
        return None if ciphertext is None else self._secrets.decrypt(ciphertext)

    async def _record(self, org_id: str, name: str) -> ConnectionRecord:
        record = None
        if NAME.fullmatch(name):
            async with self._db.read_session() as session:
                record = await connections.get_connection(session, org_id, name)
        if record is None:
            raise _not_found(name)
        return record

    async def _validated(
        self, spec: ConnectionSpec, credential: Credential | None, *, name: str
    ) -> tuple[ConnectionFields, StoredCredential]:
        """The columns to store, or InvalidInputError listing every problem as `field: ...`."""
        # In a thread: checking a passphrase-protected private key may take a second of CPU.
        return await asyncio.to_thread(self._checked_columns, spec, credential, name)

    def _checked_columns(
        self, spec: ConnectionSpec, credential: Credential | None, name: str
    ) -> tuple[ConnectionFields, StoredCredential]:
        return checked_fields(spec, credential, name), self._encrypted(credential)

    def _encrypted(self, credential: Credential | None) -> StoredCredential:
        if credential is None:
            return NO_CREDENTIAL
        passphrase = credential.passphrase or None
        return StoredCredential(
            kind=CredentialKind(credential.kind).value,
            ciphertext=self._secrets.encrypt(credential.secret),
            passphrase_ciphertext=None if passphrase is None else self._secrets.encrypt(passphrase),
        )


# --- views and checks -----------------------------------------------------------------


def _view(record: ConnectionRecord) -> ConnectionView:
    return ConnectionView(
        name=record.name,
        kind=ConnectionKind(record.kind),
        host=record.host,
        port=record.port,
        username=record.username,
        tags=list(record.tags),
        environment=record.environment,
        host_key=record.host_key,
        known_hosts=record.known_hosts,
        database=record.database,
        has_credential=record.credential_ciphertext is not None,
        credential_kind=CredentialKind(record.credential_kind),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _not_found(name: str) -> NotFoundError:
    # Another org's connection gets the same answer as a missing one: no probing.
    shown = f" '{name}'" if NAME.fullmatch(name) else ""
    return NotFoundError(f"no connection{shown} in this organisation; see GET /v1/connections")


async def _check_tcp(record: ConnectionRecord, connect_timeout: float) -> ConnectionCheck:
    """HTTP connections: can a TCP connection be opened to host:port?"""
    assert record.host is not None and record.port is not None  # checked on save
    host = f"[{record.host}]" if ":" in record.host else record.host
    address = f"{host}:{record.port}"
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(record.host, record.port), connect_timeout
        )
    except TimeoutError:
        error = f"connecting to {address} timed out after {connect_timeout:g}s"
        return ConnectionCheck(False, None, None, None, error)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        return ConnectionCheck(False, None, None, None, f"cannot connect to {address}: {reason}")
    writer.close()
    await writer.wait_closed()
    return ConnectionCheck(True, None, None, None, None)
