"""What a connection is made of, and the rules a connection must follow to be saved.

`checked_columns` turns what a caller sends into the columns to store, or raises
InvalidInputError listing every problem as `field: ...`. Messages never quote a secret.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Final

from core.errors import InvalidInputError
from services.ssh_key_rules import (
    host_key_problems,
    known_hosts_problems,
    private_key_problems,
)
from store.connections import ConnectionFields

NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
HOST_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]{0,253}[A-Za-z0-9_.])?")
MAX_USERNAME_CHARS = 255
MAX_ENVIRONMENT_CHARS = 100
MAX_TAGS = 50
MAX_TAG_CHARS = 64
MAX_PASSWORD_CHARS = 1024
MAX_POSTGRES_DATABASE_CHARS = 63
MAX_SQLITE_PATH_CHARS = 4096


class ConnectionKind(StrEnum):
    SSH = "ssh"
    LOCAL = "local"
    HTTP = "http"
    DB = "db"
    SERVICENOW = "servicenow"  # an instance over HTTPS; the credential is the password


class CredentialKind(StrEnum):
    NONE = "none"
    PASSWORD = "password"  # noqa: S105 - a kind of credential, not one
    PRIVATE_KEY = "private_key"


# A db connection's port defaults only with a host (PostgreSQL); a SQLite file has none.
DEFAULT_PORTS: Final = {
    ConnectionKind.SSH: 22,
    ConnectionKind.HTTP: 443,
    ConnectionKind.DB: 5432,
    ConnectionKind.SERVICENOW: 443,
}
# Which credentials each kind can use; a local connection runs as the worker's user.
ALLOWED_CREDENTIALS: Final = {
    ConnectionKind.SSH: (CredentialKind.PASSWORD, CredentialKind.PRIVATE_KEY),
    ConnectionKind.LOCAL: (),
    ConnectionKind.HTTP: (CredentialKind.PASSWORD,),
    ConnectionKind.DB: (CredentialKind.PASSWORD,),
    ConnectionKind.SERVICENOW: (CredentialKind.PASSWORD,),
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


# --- validation ----------------------------------------------------------------------------


def checked_fields(
    spec: ConnectionSpec, credential: Credential | None, name: str
) -> ConnectionFields:
    """The columns to store; InvalidInputError listing every problem as `field: ...`."""
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
    return _fields(kind, spec)


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


def check_kept_credential(fields: ConnectionFields, credential_kind: str) -> None:
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


def refuse_protected(name: str, database: str, protected_paths: Sequence[Path]) -> None:
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
        if kind is ConnectionKind.SERVICENOW:
            return ["username: required for a servicenow connection (the integration account)"]
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
        return host_key_problems(spec.host_key)
    if spec.known_hosts is not None:
        return known_hosts_problems(spec.known_hosts)
    port = spec.port if spec.port is not None else DEFAULT_PORTS[kind]
    return [
        "host_key: an ssh connection needs the host's key (host_key or known_hosts); "
        "fireline never trusts a host key on first use: run "
        f"`ssh-keyscan -p {port} {spec.host or 'HOST'}`, check the fingerprint out of band "
        "(`| ssh-keygen -lf -`), and set host_key to one of its key lines "
        "(without the host name) or known_hosts to its output"
    ]


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
    return private_key_problems(credential.secret, credential.passphrase)


def _password_problems(credential: Credential) -> list[str]:
    problems = []
    if not 0 < len(credential.secret) <= MAX_PASSWORD_CHARS:
        problems.append(f"credential.secret: a password of 1 to {MAX_PASSWORD_CHARS} characters")
    if credential.passphrase is not None:
        problems.append("credential.passphrase: only used with a private_key; omit it")
    return problems
