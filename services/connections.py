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

`update` replaces every field; the credential is kept unless one is given
(`credential=None` removes it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Final

import asyncssh

from connectors import ssh
from connectors.commands import CommandConnectorError
from connectors.sql import DbConnectorError, DbTarget, check_database
from connectors.ssh import SshTarget
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.secretbox import SecretBox
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

NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
HOST_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]{0,253}[A-Za-z0-9_.])?")
# One OpenSSH public key line: "<type> <base64> [comment]".
PUBLIC_KEY_LINE = re.compile(r"[A-Za-z0-9@._-]+ [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?")
MAX_USERNAME_CHARS = 255
MAX_ENVIRONMENT_CHARS = 100
MAX_TAGS = 50
MAX_TAG_CHARS = 64
MAX_HOST_KEY_CHARS = 16 * 1024
MAX_KNOWN_HOSTS_CHARS = 64 * 1024
MAX_PASSWORD_CHARS = 1024
MAX_PRIVATE_KEY_CHARS = 16 * 1024
MAX_PASSPHRASE_CHARS = 1024
MAX_POSTGRES_DATABASE_CHARS = 63
MAX_SQLITE_PATH_CHARS = 4096
DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0


class ConnectionKind(StrEnum):
    SSH = "ssh"
    LOCAL = "local"
    HTTP = "http"
    DB = "db"


class CredentialKind(StrEnum):
    NONE = "none"
    PASSWORD = "password"  # noqa: S105 - a kind of credential, not one
    PRIVATE_KEY = "private_key"


# A db connection's port defaults only with a host (PostgreSQL); a SQLite file has none.
DEFAULT_PORTS: Final = {ConnectionKind.SSH: 22, ConnectionKind.HTTP: 443, ConnectionKind.DB: 5432}
# Which credentials each kind can use; a local connection runs as the worker's user.
ALLOWED_CREDENTIALS: Final = {
    ConnectionKind.SSH: (CredentialKind.PASSWORD, CredentialKind.PRIVATE_KEY),
    ConnectionKind.LOCAL: (),
    ConnectionKind.HTTP: (CredentialKind.PASSWORD,),
    ConnectionKind.DB: (CredentialKind.PASSWORD,),
}


@dataclass(frozen=True)
class Credential:
    """A credential as a caller gives it. `secret` is the password or the private key text."""

    kind: CredentialKind | str
    secret: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ConnectionSpec:
    """What a caller sets on a connection, but its name and credential."""

    kind: ConnectionKind | str
    host: str | None = None
    port: int | None = None
    username: str | None = None
    tags: tuple[str, ...] = ()
    environment: str | None = None
    host_key: str | None = None
    known_hosts: str | None = None
    database: str | None = None  # db: PostgreSQL database name, or (no host) SQLite file


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
            _check_kept_credential(fields, current.credential_kind)
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
            _refuse_protected(name, record.database, protected_paths)
        return self._db_target(record, connect_timeout or self._connect_timeout)

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
        kind = _kind(spec.kind)
        problems = [
            *_name_problems(name),
            *_address_problems(kind, spec),
            *_database_problems(kind, spec),
            *_trust_problems(kind, spec),
            *_tag_problems(spec.tags),
            *_environment_problems(spec.environment),
            *_credential_problems(kind, spec, credential),
        ]
        if problems:
            raise InvalidInputError("; ".join(problems))
        return _fields(kind, spec), self._encrypted(credential)

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


# --- validation -----------------------------------------------------------------------


def _kind(kind: ConnectionKind | str) -> ConnectionKind:
    try:
        return ConnectionKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in ConnectionKind)
        raise InvalidInputError(f"kind: must be one of {choices}") from None


def _fields(kind: ConnectionKind, spec: ConnectionSpec) -> ConnectionFields:
    host = spec.host or None  # "" for a SQLite db connection means no host
    default_port = DEFAULT_PORTS.get(kind) if host is not None else None
    return ConnectionFields(
        kind=kind.value,
        host=host,
        port=spec.port if spec.port is not None else default_port,
        username=spec.username,
        tags=list(dict.fromkeys(spec.tags)),
        environment=spec.environment.strip() if spec.environment else None,
        host_key=spec.host_key.strip() if spec.host_key else None,
        known_hosts=spec.known_hosts,
        database=spec.database,
    )


def _check_kept_credential(fields: ConnectionFields, credential_kind: str) -> None:
    kind = ConnectionKind(fields.kind)
    kept = CredentialKind(credential_kind)
    if kept is CredentialKind.NONE:
        return
    if kept not in ALLOWED_CREDENTIALS[kind]:
        raise InvalidInputError(
            f"credential: the stored {kept.value} credential cannot be used by a {kind.value} "
            "connection; send another credential, or credential: null to remove it"
        )
    if kind is ConnectionKind.DB and fields.host is None:
        raise InvalidInputError(
            "credential: a SQLite db connection (no host) takes no credential; "
            "send credential: null to remove the stored one"
        )


def _refuse_protected(name: str, database: str, protected_paths: Sequence[Path]) -> None:
    file = Path(database).resolve()
    for protected in protected_paths:
        folder = protected.resolve()
        if file == folder or file.is_relative_to(folder):
            raise InvalidInputError(
                f"connection '{name}' points at Fireline's own data ({folder}); "
                "a db step may not read or change it"
            )


def _name_problems(name: str) -> list[str]:
    if NAME.fullmatch(name):
        return []
    return [
        "name: 1 to 63 characters: lowercase letters, digits, '_', '.' or '-', "
        "starting with a letter or digit"
    ]


def _address_problems(kind: ConnectionKind, spec: ConnectionSpec) -> list[str]:
    if kind is ConnectionKind.DB and not spec.host:
        return _sqlite_address_problems(spec)
    if kind is ConnectionKind.LOCAL:
        unused = [
            f"{name}: not used by a local connection; omit it"
            for name, value in (("host", spec.host), ("port", spec.port))
            if value is not None
        ]
        if spec.username is not None:
            unused.append("username: not used by a local connection (it runs as the worker)")
        return unused
    problems = [*_host_problems(spec.host), *_username_problems(kind, spec.username)]
    if spec.port is None and kind not in DEFAULT_PORTS:
        problems.append(f"port: required for a {kind.value} connection")
    elif spec.port is not None and not 0 < spec.port < 65536:
        problems.append("port: must be 1 to 65535")
    return problems


def _host_problems(host: str | None) -> list[str]:
    if host is None or host == "":
        return ["host: required"]
    if HOST_NAME.fullmatch(host) or _is_ip_address(host):
        return []
    return ["host: must be a host name or an IP address (no scheme, user, port or path)"]


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _sqlite_address_problems(spec: ConnectionSpec) -> list[str]:
    return [
        f"{name}: not used by a SQLite db connection (no host); omit it, or give a host "
        "for PostgreSQL"
        for name, value in (("port", spec.port), ("username", spec.username))
        if value is not None
    ]


def _username_problems(kind: ConnectionKind, username: str | None) -> list[str]:
    if username is None or username == "":
        if kind is ConnectionKind.SSH:
            return ["username: required for an ssh connection"]
        if kind is ConnectionKind.DB:
            return ["username: required for a PostgreSQL db connection (one with a host)"]
        return []
    if len(username) > MAX_USERNAME_CHARS:
        return [f"username: at most {MAX_USERNAME_CHARS} characters"]
    if not username.isprintable() or any(char.isspace() for char in username):
        return ["username: must not contain spaces or control characters"]
    return []


def _database_problems(kind: ConnectionKind, spec: ConnectionSpec) -> list[str]:
    database = spec.database
    if kind is not ConnectionKind.DB:
        return [] if database is None else ["database: only used by db connections; omit it"]
    if not spec.host:
        return _sqlite_path_problems(database)
    if not database:
        return [
            "database: required: the PostgreSQL database name (or, with no host, the "
            "absolute path of a SQLite file on the worker)"
        ]
    if len(database) > MAX_POSTGRES_DATABASE_CHARS or not database.isprintable():
        return [
            f"database: a PostgreSQL database name of 1 to {MAX_POSTGRES_DATABASE_CHARS} "
            "printable characters"
        ]
    return []


def _sqlite_path_problems(database: str | None) -> list[str]:
    if not database:
        return [
            "database: required: with no host, the absolute path of a SQLite file on the "
            "worker (or give host, username and database for PostgreSQL)"
        ]
    if len(database) > MAX_SQLITE_PATH_CHARS or not database.isprintable():
        return [f"database: a file path of at most {MAX_SQLITE_PATH_CHARS} printable characters"]
    if not PurePosixPath(database).is_absolute():
        return [
            "database: with no host, the absolute path of a SQLite file on the worker, "
            "e.g. /var/lib/app/app.db"
        ]
    return []


def _trust_problems(kind: ConnectionKind, spec: ConnectionSpec) -> list[str]:
    if kind is not ConnectionKind.SSH:
        return [
            f"{name}: only used by ssh connections; omit it"
            for name, value in (("host_key", spec.host_key), ("known_hosts", spec.known_hosts))
            if value is not None
        ]
    if spec.host_key is not None and spec.known_hosts is not None:
        return ["host_key: set either host_key or known_hosts, not both"]
    if spec.host_key is not None:
        return _host_key_problems(spec.host_key)
    if spec.known_hosts is not None:
        return _known_hosts_problems(spec.known_hosts)
    port = spec.port if spec.port is not None else DEFAULT_PORTS[kind]
    return [
        "host_key: an ssh connection needs the host's key (host_key or known_hosts); "
        "fireline never trusts a host key on first use: run "
        f"`ssh-keyscan -p {port} {spec.host or 'HOST'}`, check the fingerprint out of band "
        "(`| ssh-keygen -lf -`), and set host_key to one of its key lines "
        "(without the host name) or known_hosts to its output"
    ]


def _host_key_problems(host_key: str) -> list[str]:
    # Checked as a public key line first: asyncssh would also accept a private key here,
    # and this field is shown to everyone in clear.
    line = host_key.strip()
    if len(line) > MAX_HOST_KEY_CHARS or not PUBLIC_KEY_LINE.fullmatch(line):
        return [
            'host_key: must be one OpenSSH public key line ("ssh-ed25519 AAAA..."), '
            "without the host name that ssh-keyscan prints first"
        ]
    if not _is_public_key(line):
        return ["host_key: not a public key asyncssh can read (type and base64 must match)"]
    return []


def _known_hosts_problems(known_hosts: str) -> list[str]:
    if len(known_hosts) > MAX_KNOWN_HOSTS_CHARS:
        return [f"known_hosts: at most {MAX_KNOWN_HOSTS_CHARS} characters"]
    entries = [
        (number, line.strip())
        for number, line in enumerate(known_hosts.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not entries:
        return ["known_hosts: has no entry; paste the output of ssh-keyscan"]
    # Line numbers only: a bad line might be something pasted by mistake (a private key).
    bad = [str(number) for number, line in entries if not _is_known_hosts_entry(line)]
    if bad:
        return [
            f"known_hosts: line {', '.join(bad)} is not a known_hosts entry "
            '("host[,host...] ssh-ed25519 AAAA...")'
        ]
    return []


def _is_known_hosts_entry(line: str) -> bool:
    parts = line.split()
    if parts and parts[0].startswith("@"):  # @cert-authority / @revoked
        parts = parts[1:]
    if len(parts) < 3:
        return False
    key_line = " ".join(parts[1:3])
    return bool(PUBLIC_KEY_LINE.fullmatch(key_line)) and _is_public_key(key_line)


def _is_public_key(line: str) -> bool:
    try:
        asyncssh.import_public_key(line)
    except (asyncssh.KeyImportError, ValueError):
        return False
    return True


def _tag_problems(tags: Iterable[str]) -> list[str]:
    tags = list(tags)
    if len(tags) > MAX_TAGS:
        return [f"tags: at most {MAX_TAGS}"]
    bad = [
        index
        for index, tag in enumerate(tags)
        if not tag or len(tag) > MAX_TAG_CHARS or not tag.isprintable() or " " in tag
    ]
    return [
        f"tags.{index}: 1 to {MAX_TAG_CHARS} characters, no spaces or control characters"
        for index in bad
    ]


def _environment_problems(environment: str | None) -> list[str]:
    if environment is None:
        return []
    value = environment.strip()
    if not value or len(value) > MAX_ENVIRONMENT_CHARS or not value.isprintable():
        return [f"environment: 1 to {MAX_ENVIRONMENT_CHARS} printable characters"]
    return []


def _credential_problems(
    kind: ConnectionKind, spec: ConnectionSpec, credential: Credential | None
) -> list[str]:
    # Never quote the secret or the passphrase in these messages.
    if credential is None:
        return []
    if kind is ConnectionKind.DB and not spec.host:
        return ["credential: a SQLite db connection (no host) takes no credential; omit it"]
    allowed = ALLOWED_CREDENTIALS[kind]
    try:
        credential_kind = CredentialKind(credential.kind)
    except ValueError:
        credential_kind = CredentialKind.NONE
    if credential_kind not in allowed:
        if not allowed:
            return [f"credential: a {kind.value} connection takes no credential; omit it"]
        choices = ", ".join(k.value for k in allowed)
        return [f"credential.kind: must be {choices} for a {kind.value} connection"]
    if credential_kind is CredentialKind.PASSWORD:
        return _password_problems(credential)
    return _private_key_problems(credential)


def _password_problems(credential: Credential) -> list[str]:
    problems = []
    if not 0 < len(credential.secret) <= MAX_PASSWORD_CHARS:
        problems.append(f"credential.secret: a password of 1 to {MAX_PASSWORD_CHARS} characters")
    if credential.passphrase is not None:
        problems.append("credential.passphrase: only used with a private_key; omit it")
    return problems


def _private_key_problems(credential: Credential) -> list[str]:
    if not 0 < len(credential.secret) <= MAX_PRIVATE_KEY_CHARS:
        return [f"credential.secret: a private key of at most {MAX_PRIVATE_KEY_CHARS} characters"]
    passphrase = credential.passphrase or None
    if passphrase is not None and len(passphrase) > MAX_PASSPHRASE_CHARS:
        return [f"credential.passphrase: at most {MAX_PASSPHRASE_CHARS} characters"]
    try:
        asyncssh.import_private_key(credential.secret, passphrase)
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, ValueError) as err:
        return [_private_key_problem(err)]
    return []


def _private_key_problem(err: Exception) -> str:
    # asyncssh's messages never quote the key; ours do not either.
    text = str(err).lower()
    if "passphrase must be specified" in text:
        return "credential.passphrase: required: the private key is encrypted"
    if isinstance(err, asyncssh.KeyEncryptionError) or "decrypt" in text:
        return "credential.passphrase: wrong passphrase for this private key"
    return (
        "credential.secret: not a private key asyncssh can read "
        "(OpenSSH, PEM or PKCS#8 text, as in ~/.ssh/id_ed25519)"
    )
