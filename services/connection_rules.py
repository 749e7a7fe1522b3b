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

import asyncssh

from core.errors import InvalidInputError
from store.connections import ConnectionFields

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
