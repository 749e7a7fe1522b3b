"""Infrastructure connections: validation, per-org isolation, write-only credentials, tests."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from connectors.commands import AuthenticationFailedError
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.secretbox import SecretBox
from services.connections import (
    KEEP_CREDENTIAL,
    ConnectionKind,
    ConnectionService,
    ConnectionSpec,
    ConnectionView,
    Credential,
    CredentialKind,
)
from store.db import Database
from tests.fakes.sshd import OpenSshServer, require_sshd

PASSWORD = "pw-Zq8#unique-secret-7731"
PASSPHRASE = "phrase-Kx4!unique-5519"


def public_line() -> str:
    key = asyncssh.generate_private_key("ssh-ed25519")
    return " ".join(key.export_public_key("openssh").decode().split()[:2])


def private_text(passphrase: str | None = None) -> str:
    """An ed25519 key as PKCS#8 PEM: its passphrase encryption is fast (no bcrypt rounds)."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    return key.export_private_key("pkcs8-pem", passphrase).decode()


def secret_fragments(secret: str) -> list[str]:
    """The secret, and each long line of it (a key's base64 body), to look for anywhere."""
    return [secret, *(line for line in secret.splitlines() if len(line) >= 16)]


HOST_KEY = public_line()
SSH = ConnectionSpec(kind="ssh", host="db-1.internal", username="deploy", host_key=HOST_KEY)
LOCAL = ConnectionSpec(kind="local")


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(Fernet.generate_key().decode())


@pytest.fixture
def service(db: Database, box: SecretBox) -> ConnectionService:
    return ConnectionService(db, box)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSshServer]:
    require_sshd()
    with OpenSshServer(tmp_path_factory.mktemp("sshd")) as server:
        yield server


def sshd_spec(sshd: OpenSshServer, **changes: Any) -> ConnectionSpec:
    spec = ConnectionSpec(
        kind="ssh",
        host=sshd.host,
        port=sshd.port,
        username=sshd.username,
        host_key=sshd.host_public_key,
    )
    return replace(spec, **changes)


async def raw_rows(db: Database) -> list[dict[str, Any]]:
    """The table as the database holds it (no ORM, no decryption)."""
    async with db.read_session() as session:
        result = await session.execute(text("SELECT * FROM connections ORDER BY org_id, name"))
        return [dict(row) for row in result.mappings()]


async def expect_invalid(
    service: ConnectionService, db: Database, spec: ConnectionSpec, *fragments: str, **kw: Any
) -> str:
    """create() refuses with every fragment in its message, and nothing is stored."""
    before = await raw_rows(db)
    with pytest.raises(InvalidInputError) as raised:
        await service.create(org_id="acme", name=kw.pop("name", "db-1"), spec=spec, **kw)
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message
    assert await raw_rows(db) == before
    return message


# --- create, read, list, delete ---------------------------------------------------------


async def test_create_returns_the_view_with_defaults_and_get_reads_it_back(
    service: ConnectionService,
) -> None:
    spec = replace(SSH, tags=("payments", "primary", "payments"), environment=" production ")
    view = await service.create(
        org_id="acme", name="db-1", spec=spec, credential=Credential("password", PASSWORD)
    )
    assert (view.name, view.kind, view.host, view.port, view.username) == (
        "db-1",
        ConnectionKind.SSH,
        "db-1.internal",
        22,
        "deploy",
    )
    assert (view.tags, view.environment, view.host_key, view.known_hosts) == (
        ["payments", "primary"],
        "production",
        HOST_KEY,
        None,
    )
    assert (view.has_credential, view.credential_kind) == (True, CredentialKind.PASSWORD)
    assert await service.get(org_id="acme", name="db-1") == view


async def test_a_local_connection_needs_nothing_but_its_kind(service: ConnectionService) -> None:
    view = await service.create(org_id="acme", name="worker", spec=LOCAL)
    assert (view.kind, view.host, view.port, view.username) == (
        ConnectionKind.LOCAL,
        None,
        None,
        None,
    )
    assert (view.has_credential, view.credential_kind) == (False, CredentialKind.NONE)


async def test_list_is_per_org_and_sorted_by_name(service: ConnectionService) -> None:
    for name in ("web-2", "app", "web-1"):
        await service.create(org_id="acme", name=name, spec=LOCAL)
    await service.create(org_id="globex", name="zeta", spec=LOCAL)
    assert [v.name for v in await service.list(org_id="acme")] == ["app", "web-1", "web-2"]
    assert [v.name for v in await service.list(org_id="globex")] == ["zeta"]
    assert await service.list(org_id="initech") == []


async def test_a_second_connection_with_the_same_name_is_a_conflict(
    service: ConnectionService, db: Database
) -> None:
    await service.create(org_id="acme", name="db-1", spec=SSH)
    before = await raw_rows(db)
    with pytest.raises(ConflictError, match="connection 'db-1' already exists; change it with PUT"):
        await service.create(org_id="acme", name="db-1", spec=LOCAL)
    assert await raw_rows(db) == before
    # Another org may use the same name.
    other = await service.create(org_id="globex", name="db-1", spec=LOCAL)
    assert other.kind is ConnectionKind.LOCAL


async def test_another_orgs_connection_is_not_found_for_every_operation(
    service: ConnectionService, db: Database
) -> None:
    await service.create(
        org_id="acme", name="db-1", spec=SSH, credential=Credential("password", PASSWORD)
    )
    before = await raw_rows(db)
    operations = [
        service.get(org_id="globex", name="db-1"),
        service.update(org_id="globex", name="db-1", spec=LOCAL, credential=None),
        service.delete(org_id="globex", name="db-1"),
        service.test(org_id="globex", name="db-1"),
        service.resolve_ssh_target("globex", "db-1"),
    ]
    for operation in operations:
        with pytest.raises(NotFoundError, match="no connection 'db-1' in this organisation"):
            await operation
    assert await raw_rows(db) == before


async def test_delete_removes_the_connection(service: ConnectionService, db: Database) -> None:
    await service.create(org_id="acme", name="db-1", spec=LOCAL)
    await service.create(org_id="acme", name="db-2", spec=LOCAL)
    await service.delete(org_id="acme", name="db-1")
    with pytest.raises(NotFoundError):
        await service.get(org_id="acme", name="db-1")
    with pytest.raises(NotFoundError):
        await service.delete(org_id="acme", name="db-1")
    assert [row["name"] for row in await raw_rows(db)] == ["db-2"]


async def test_a_name_that_cannot_exist_is_not_found_and_not_quoted(
    service: ConnectionService,
) -> None:
    with pytest.raises(NotFoundError) as raised:
        await service.get(org_id="acme", name="Bad Name")
    assert str(raised.value) == "no connection in this organisation; see GET /v1/connections"


# --- validation: each bad input is refused, and nothing is stored ------------------------


@pytest.mark.parametrize("name", ["", "Upper", "-lead", "a b", "x" * 64, "semi;colon", "é"])
async def test_bad_names_are_refused(service: ConnectionService, db: Database, name: str) -> None:
    await expect_invalid(service, db, LOCAL, "name: 1 to 63 characters", name=name)


async def test_the_longest_name_is_accepted(service: ConnectionService) -> None:
    view = await service.create(org_id="acme", name="a" + "b.-_" * 15 + "cd", spec=LOCAL)
    assert len(view.name) == 63


async def test_an_unknown_kind_is_refused(service: ConnectionService, db: Database) -> None:
    spec = ConnectionSpec(kind="telnet", host="h")
    await expect_invalid(service, db, spec, "kind: must be one of ssh, local, http, db")


async def test_ssh_without_a_host_key_says_how_to_get_one(
    service: ConnectionService, db: Database
) -> None:
    spec = ConnectionSpec(kind="ssh", host="db-1.internal", port=2222, username="deploy")
    message = await expect_invalid(service, db, spec, "never trusts a host key on first use")
    assert "`ssh-keyscan -p 2222 db-1.internal`" in message


async def test_ssh_without_host_or_username_lists_both(
    service: ConnectionService, db: Database
) -> None:
    spec = ConnectionSpec(kind="ssh", host_key=HOST_KEY)
    await expect_invalid(service, db, spec, "host: required", "username: required")


@pytest.mark.parametrize(
    "host", ["user@db-1", "https://db-1", "db-1:22", "db 1", "db-1/x", "-db", "db..x\n", ""]
)
async def test_a_host_must_be_a_bare_name_or_address(
    service: ConnectionService, db: Database, host: str
) -> None:
    await expect_invalid(service, db, replace(SSH, host=host), "host: ")


@pytest.mark.parametrize("host", ["10.0.0.7", "::1", "fe80::1", "db_1.internal", "DB-1"])
async def test_ip_addresses_and_host_names_are_accepted(
    service: ConnectionService, host: str
) -> None:
    view = await service.create(org_id="acme", name="db-1", spec=replace(SSH, host=host))
    assert view.host == host


@pytest.mark.parametrize("port", [0, -1, 65536])
async def test_a_port_outside_1_to_65535_is_refused(
    service: ConnectionService, db: Database, port: int
) -> None:
    await expect_invalid(service, db, replace(SSH, port=port), "port: must be 1 to 65535")


async def test_an_http_connection_defaults_to_port_443(service: ConnectionService) -> None:
    # db connections default to 5432: tests/services/test_db_connections.py
    view = await service.create(org_id="acme", name="api", spec=ConnectionSpec("http", "api.x"))
    assert view.port == 443


async def test_fields_a_local_connection_does_not_use_are_refused(
    service: ConnectionService, db: Database
) -> None:
    spec = ConnectionSpec(kind="local", host="h", port=22, username="u", host_key=HOST_KEY)
    await expect_invalid(
        service,
        db,
        spec,
        "host: not used by a local connection",
        "port: not used by a local connection",
        "username: not used by a local connection",
        "host_key: only used by ssh connections",
    )
    await expect_invalid(
        service,
        db,
        LOCAL,
        "credential: a local connection takes no credential",
        credential=Credential("password", PASSWORD),
    )


async def test_host_key_and_known_hosts_together_are_refused(
    service: ConnectionService, db: Database
) -> None:
    spec = replace(SSH, known_hosts=f"db-1.internal {HOST_KEY}")
    await expect_invalid(service, db, spec, "set either host_key or known_hosts, not both")


@pytest.mark.parametrize(
    "host_key",
    [
        f"db-1.internal {HOST_KEY}",  # ssh-keyscan's line, host name included
        "ssh-ed25519",
        "not-a-key",
        f"{HOST_KEY}\n{HOST_KEY}",
    ],
)
async def test_a_host_key_must_be_one_public_key_line(
    service: ConnectionService, db: Database, host_key: str
) -> None:
    await expect_invalid(service, db, replace(SSH, host_key=host_key), "host_key: must be one")


async def test_a_host_key_whose_base64_is_not_a_key_is_refused(
    service: ConnectionService, db: Database
) -> None:
    spec = replace(SSH, host_key="ssh-ed25519 AAAAnotreallyakey")
    await expect_invalid(service, db, spec, "host_key: not a public key asyncssh can read")


async def test_a_private_key_pasted_as_host_key_is_refused_and_not_quoted(
    service: ConnectionService, db: Database
) -> None:
    # asyncssh would read a private key as a public one; it must not be kept in clear.
    key = private_text()
    message = await expect_invalid(service, db, replace(SSH, host_key=key), "host_key: must be")
    assert all(fragment not in message for fragment in secret_fragments(key))


async def test_known_hosts_lines_are_checked_one_by_one(
    service: ConnectionService, db: Database
) -> None:
    known_hosts = f"# scanned\ndb-1.internal {HOST_KEY}\ngarbage\n@revoked * {public_line()}\nx y\n"
    await expect_invalid(
        service,
        db,
        replace(SSH, host_key=None, known_hosts=known_hosts),
        "known_hosts: line 3, 5 is not a known_hosts entry",
    )
    await expect_invalid(
        service,
        db,
        replace(SSH, host_key=None, known_hosts="# only a comment\n\n"),
        "known_hosts: has no entry",
    )


async def test_valid_known_hosts_text_is_stored_as_given(service: ConnectionService) -> None:
    known_hosts = f"# scanned\ndb-1.internal,10.0.0.7 {HOST_KEY} comment\n"
    view = await service.create(
        org_id="acme", name="db-1", spec=replace(SSH, host_key=None, known_hosts=known_hosts)
    )
    assert (view.known_hosts, view.host_key) == (known_hosts, None)


async def test_bad_tags_and_environment_are_refused(
    service: ConnectionService, db: Database
) -> None:
    await expect_invalid(
        service,
        db,
        replace(SSH, tags=("ok", "", "has space", "x" * 65), environment="   "),
        "tags.1: 1 to 64 characters",
        "tags.2: ",
        "tags.3: ",
        "environment: 1 to 100 printable characters",
    )
    await expect_invalid(
        service, db, replace(SSH, tags=tuple(map(str, range(51)))), "tags: at most 50"
    )


async def test_bad_credentials_are_refused_without_quoting_them(
    service: ConnectionService, db: Database
) -> None:
    key = private_text(PASSPHRASE)
    cases = [
        (Credential("token", PASSWORD), "credential.kind: must be password, private_key"),
        (Credential("password", ""), "credential.secret: a password of 1 to 1024"),
        (Credential("password", "p" * 1025), "credential.secret: a password of 1 to 1024"),
        (Credential("password", PASSWORD, PASSPHRASE), "credential.passphrase: only used with"),
        (Credential("private_key", PASSWORD), "credential.secret: not a private key"),
        (Credential("private_key", key), "credential.passphrase: required: the private key is"),
        (Credential("private_key", key, "wrong-" + PASSPHRASE), "wrong passphrase"),
    ]
    for credential, expected in cases:
        message = await expect_invalid(service, db, SSH, expected, credential=credential)
        for fragment in [PASSWORD, PASSPHRASE, *secret_fragments(key)]:
            assert fragment not in message


async def test_http_and_db_connections_take_a_password_but_no_private_key(
    service: ConnectionService, db: Database
) -> None:
    spec = ConnectionSpec(
        kind="db", host="pg.internal", port=5432, username="app", database="payments"
    )
    await expect_invalid(
        service,
        db,
        spec,
        "credential.kind: must be password for a db connection",
        credential=Credential("private_key", private_text()),
    )
    view = await service.create(
        org_id="acme", name="pg", spec=spec, credential=Credential("password", PASSWORD)
    )
    assert view.credential_kind is CredentialKind.PASSWORD


# --- credentials at rest --------------------------------------------------------------


async def test_credentials_are_stored_only_as_ciphertext(
    service: ConnectionService, db: Database, box: SecretBox
) -> None:
    key = private_text(PASSPHRASE)
    await service.create(
        org_id="acme", name="db-1", spec=SSH, credential=Credential("private_key", key, PASSPHRASE)
    )
    [row] = await raw_rows(db)
    stored = " ".join(str(value) for value in row.values())
    for fragment in [PASSPHRASE, *secret_fragments(key)]:
        assert fragment not in stored
    assert row["credential_kind"] == "private_key"
    assert box.decrypt(row["credential_ciphertext"]) == key
    assert box.decrypt(row["credential_passphrase_ciphertext"]) == PASSPHRASE


async def test_views_never_carry_the_credential(service: ConnectionService) -> None:
    view = await service.create(
        org_id="acme", name="db-1", spec=SSH, credential=Credential("password", PASSWORD)
    )
    listed = await service.list(org_id="acme")
    for shown in (view, await service.get(org_id="acme", name="db-1"), *listed):
        assert PASSWORD not in repr(shown)
    assert PASSWORD not in repr(Credential("password", PASSWORD, PASSPHRASE))
    assert PASSPHRASE not in repr(Credential("password", PASSWORD, PASSPHRASE))


# --- update -----------------------------------------------------------------------------


async def test_update_without_a_credential_keeps_the_stored_one(
    service: ConnectionService, db: Database
) -> None:
    created = await service.create(
        org_id="acme", name="db-1", spec=SSH, credential=Credential("password", PASSWORD)
    )
    [before] = await raw_rows(db)
    updated = await service.update(
        org_id="acme", name="db-1", spec=replace(SSH, host="db-2.internal", tags=("moved",))
    )
    assert (updated.host, updated.tags, updated.port) == ("db-2.internal", ["moved"], 22)
    assert (updated.has_credential, updated.credential_kind) == (True, CredentialKind.PASSWORD)
    assert updated.created_at == created.created_at
    [after] = await raw_rows(db)
    assert after["credential_ciphertext"] == before["credential_ciphertext"]


async def test_update_replaces_or_clears_the_credential(
    service: ConnectionService, box: SecretBox, db: Database
) -> None:
    await service.create(
        org_id="acme", name="db-1", spec=SSH, credential=Credential("password", PASSWORD)
    )
    key = private_text()
    replaced = await service.update(
        org_id="acme", name="db-1", spec=SSH, credential=Credential("private_key", key)
    )
    assert replaced.credential_kind is CredentialKind.PRIVATE_KEY
    [row] = await raw_rows(db)
    assert box.decrypt(row["credential_ciphertext"]) == key
    cleared = await service.update(org_id="acme", name="db-1", spec=SSH, credential=None)
    assert (cleared.has_credential, cleared.credential_kind) == (False, CredentialKind.NONE)
    [row] = await raw_rows(db)
    assert (row["credential_ciphertext"], row["credential_passphrase_ciphertext"]) == (None, None)


async def test_a_bad_update_changes_nothing(service: ConnectionService, db: Database) -> None:
    await service.create(
        org_id="acme", name="db-1", spec=SSH, credential=Credential("password", PASSWORD)
    )
    before = await raw_rows(db)
    with pytest.raises(InvalidInputError, match="host_key: an ssh connection needs"):
        await service.update(org_id="acme", name="db-1", spec=replace(SSH, host_key=None))
    with pytest.raises(InvalidInputError, match=r"credential\.secret: not a private key"):
        await service.update(
            org_id="acme", name="db-1", spec=SSH, credential=Credential("private_key", "x")
        )
    assert await raw_rows(db) == before


async def test_a_kept_credential_must_suit_the_new_kind(
    service: ConnectionService, db: Database
) -> None:
    await service.create(
        org_id="acme", name="db-1", spec=SSH, credential=Credential("password", PASSWORD)
    )
    before = await raw_rows(db)
    with pytest.raises(InvalidInputError, match="stored password credential cannot be used by"):
        await service.update(org_id="acme", name="db-1", spec=LOCAL, credential=KEEP_CREDENTIAL)
    assert await raw_rows(db) == before
    # Removing it at the same time is fine.
    local = await service.update(org_id="acme", name="db-1", spec=LOCAL, credential=None)
    assert (local.kind, local.has_credential, local.host) == (ConnectionKind.LOCAL, False, None)


async def test_updating_an_unknown_connection_is_not_found(
    service: ConnectionService, db: Database
) -> None:
    with pytest.raises(NotFoundError):
        await service.update(org_id="acme", name="db-1", spec=SSH)
    assert await raw_rows(db) == []


# --- resolve_ssh_target -------------------------------------------------------------------


async def test_resolve_decrypts_the_credential_into_a_target(service: ConnectionService) -> None:
    key = private_text(PASSPHRASE)
    await service.create(
        org_id="acme",
        name="db-1",
        spec=replace(SSH, port=2222),
        credential=Credential("private_key", key, PASSPHRASE),
    )
    target = await service.resolve_ssh_target("acme", "db-1")
    assert (target.host, target.port, target.username) == ("db-1.internal", 2222, "deploy")
    assert (target.private_key, target.passphrase, target.password) == (key, PASSPHRASE, None)
    assert (target.pinned_host_key, target.known_hosts) == (HOST_KEY, None)
    assert PASSPHRASE not in repr(target)

    await service.update(
        org_id="acme", name="db-1", spec=SSH, credential=Credential("password", PASSWORD)
    )
    target = await service.resolve_ssh_target("acme", "db-1", connect_timeout=3)
    assert (target.password, target.private_key, target.passphrase) == (PASSWORD, None, None)
    assert (target.port, target.connect_timeout) == (22, 3)


async def test_resolve_refuses_other_kinds_and_a_missing_credential(
    service: ConnectionService,
) -> None:
    await service.create(org_id="acme", name="worker", spec=LOCAL)
    with pytest.raises(InvalidInputError, match="'worker' is of kind local, not ssh"):
        await service.resolve_ssh_target("acme", "worker")
    await service.create(org_id="acme", name="db-1", spec=SSH)
    with pytest.raises(AuthenticationFailedError, match="no private key or password"):
        await service.resolve_ssh_target("acme", "db-1")


# --- test(): reachability and host key ------------------------------------------------------


async def test_a_local_connection_is_always_reachable(service: ConnectionService) -> None:
    await service.create(org_id="acme", name="worker", spec=LOCAL)
    check = await service.test(org_id="acme", name="worker")
    assert (check.reachable, check.host_key_ok, check.authenticated, check.error) == (
        True,
        None,
        None,
        None,
    )


async def test_an_ssh_host_on_a_closed_port_is_unreachable(service: ConnectionService) -> None:
    port = closed_port()
    spec = replace(SSH, host="127.0.0.1", port=port)
    await service.create(
        org_id="acme", name="db-1", spec=spec, credential=Credential("password", PASSWORD)
    )
    check = await service.test(org_id="acme", name="db-1")
    assert (check.reachable, check.host_key_ok, check.authenticated) == (False, False, False)
    assert check.error is not None and f"127.0.0.1:{port}" in check.error
    assert "connection refused" in check.error


async def test_an_ssh_connection_without_a_credential_is_not_tried(
    service: ConnectionService,
) -> None:
    await service.create(org_id="acme", name="db-1", spec=SSH)
    check = await service.test(org_id="acme", name="db-1")
    assert (check.reachable, check.host_key_ok, check.fingerprint) == (False, False, None)
    assert check.error is not None and "no private key or password for deploy@" in check.error


@pytest.fixture
async def listener() -> AsyncIterator[int]:
    """A loopback TCP port that accepts connections (and closes them)."""

    def close(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(close, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_http_connections_are_checked_with_a_tcp_connection(
    service: ConnectionService, listener: int
) -> None:
    # db connections run SELECT 1 instead: tests/services/test_db_connections.py
    await service.create(
        org_id="acme", name="up", spec=ConnectionSpec("http", "127.0.0.1", listener)
    )
    await service.create(
        org_id="acme", name="down", spec=ConnectionSpec("http", "127.0.0.1", closed_port())
    )
    up = await service.test(org_id="acme", name="up")
    down = await service.test(org_id="acme", name="down")
    assert (up.reachable, up.host_key_ok, up.error) == (True, None, None)
    assert (down.reachable, down.host_key_ok) == (False, None)
    assert down.error is not None and "cannot connect to 127.0.0.1:" in down.error


def fingerprint_of(public_key_line: str) -> str:
    key = asyncssh.import_public_key(public_key_line)
    return f"{key.get_algorithm()} {key.get_fingerprint('sha256')}"


async def test_a_real_sshd_with_the_pinned_key_and_client_key_passes(
    service: ConnectionService, sshd: OpenSshServer
) -> None:
    await service.create(
        org_id="acme",
        name="sshd",
        spec=sshd_spec(sshd),
        credential=Credential("private_key", sshd.client_private_key),
    )
    check = await service.test(org_id="acme", name="sshd")
    assert (check.reachable, check.host_key_ok, check.authenticated, check.error) == (
        True,
        True,
        True,
        None,
    )
    assert check.fingerprint == fingerprint_of(sshd.host_public_key)


async def test_known_hosts_text_is_used_for_the_check(
    service: ConnectionService, sshd: OpenSshServer
) -> None:
    spec = sshd_spec(sshd, host_key=None, known_hosts=sshd.known_hosts_line + "\n")
    await service.create(
        org_id="acme",
        name="sshd",
        spec=spec,
        credential=Credential("private_key", sshd.client_private_key),
    )
    check = await service.test(org_id="acme", name="sshd")
    assert (check.reachable, check.host_key_ok, check.authenticated) == (True, True, True)


async def test_a_host_key_mismatch_is_reported_with_the_key_the_host_showed(
    service: ConnectionService, sshd: OpenSshServer
) -> None:
    await service.create(
        org_id="acme",
        name="sshd",
        spec=sshd_spec(sshd, host_key=public_line()),
        credential=Credential("private_key", sshd.client_private_key),
    )
    check = await service.test(org_id="acme", name="sshd")
    assert (check.reachable, check.host_key_ok, check.authenticated) == (True, False, False)
    assert check.fingerprint == fingerprint_of(sshd.host_public_key)
    assert check.error is not None and "does not match the connection's pinned host key" in (
        check.error
    )


async def test_a_refused_login_is_reported_after_a_good_host_key(
    service: ConnectionService, sshd: OpenSshServer
) -> None:
    # The test sshd allows public keys only: a password is refused.
    await service.create(
        org_id="acme",
        name="sshd",
        spec=sshd_spec(sshd),
        credential=Credential("password", PASSWORD),
    )
    check = await service.test(org_id="acme", name="sshd")
    assert (check.reachable, check.host_key_ok, check.authenticated) == (True, True, False)
    assert check.error is not None and "was refused" in check.error
    assert PASSWORD not in check.error


async def test_no_secret_reaches_any_log_record(
    service: ConnectionService, sshd: OpenSshServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = private_text(PASSPHRASE)
    # The server knows this client key: the login goes through with the passphrase.
    authorized = Path(sshd.folder / "authorized_keys")
    public = " ".join(
        asyncssh.import_private_key(key, PASSPHRASE).export_public_key().decode().split()[:2]
    )
    authorized.write_text(authorized.read_text() + public + "\n")
    spec = sshd_spec(sshd)
    await service.create(
        org_id="acme",
        name="by-key",
        spec=spec,
        credential=Credential("private_key", key, PASSPHRASE),
    )
    await service.create(
        org_id="acme", name="by-password", spec=spec, credential=Credential("password", PASSWORD)
    )
    by_key = await service.test(org_id="acme", name="by-key")
    by_password = await service.test(org_id="acme", name="by-password")
    await service.resolve_ssh_target("acme", "by-key")

    assert (by_key.authenticated, by_password.authenticated) == (True, False)
    assert caplog.records, "the DEBUG capture recorded nothing: the check proves nothing"
    logged = caplog.text + "".join(repr(record.args) for record in caplog.records)
    for fragment in [PASSWORD, PASSPHRASE, *secret_fragments(key)]:
        assert fragment not in logged


async def test_listed_views_are_plain_data(service: ConnectionService) -> None:
    view = await service.create(org_id="acme", name="worker", spec=LOCAL)
    assert isinstance(view, ConnectionView)
    assert view.tags == [] and view.environment is None


# --- servicenow -----------------------------------------------------------------------


SERVICENOW = ConnectionSpec(kind="servicenow", host="acme.service-now.com", username="fireline")


async def test_a_servicenow_connection_resolves_to_https_with_its_password(
    service: ConnectionService,
) -> None:
    credential = Credential(kind="password", secret=PASSWORD)
    view = await service.create(org_id="acme", name="snow", spec=SERVICENOW, credential=credential)

    resolved = await service.resolve_servicenow("acme", "snow")

    assert (view.port, view.has_credential) == (443, True)
    assert resolved.url == "https://acme.service-now.com"
    assert (resolved.username, resolved.password.get_secret_value()) == ("fireline", PASSWORD)
    with pytest.raises(NotFoundError):
        await service.resolve_servicenow("globex", "snow")


async def test_a_servicenow_connection_needs_an_account_and_a_password(
    service: ConnectionService,
) -> None:
    nameless = ConnectionSpec(kind="servicenow", host="acme.service-now.com")
    with pytest.raises(InvalidInputError, match="username: required for a servicenow"):
        await service.create(org_id="acme", name="snow", spec=nameless)
    await service.create(org_id="acme", name="snow", spec=SERVICENOW)
    await service.create(org_id="acme", name="box", spec=LOCAL)

    with pytest.raises(InvalidInputError, match="has no password"):
        await service.resolve_servicenow("acme", "snow")
    with pytest.raises(InvalidInputError, match="of kind local, not servicenow"):
        await service.resolve_servicenow("acme", "box")
    assert [c.name for c in await service.list(org_id="acme")] == ["box", "snow"]
