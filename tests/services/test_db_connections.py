"""db connections: PostgreSQL (host, username, password, database) or a SQLite file (no
host); validation with field-named errors, the decrypted target for a db step, the check."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from core.errors import InvalidInputError, NotFoundError
from core.secretbox import SecretBox
from services.connections import (
    ConnectionService,
    ConnectionSpec,
    Credential,
    CredentialKind,
)
from store.db import Database
from tests.fakes.sql_databases import ScratchDb, postgres_scratch, sqlite_scratch
from tests.store.databases import POSTGRES_URL_ENV, postgres_url

PASSWORD = "pw-Rb5&unique-db-secret-9042"
POSTGRES = ConnectionSpec(
    kind="db", host="pg.internal", username="app", database="payments", tags=("pg",)
)


@pytest.fixture
def service(db: Database) -> ConnectionService:
    return ConnectionService(db, SecretBox(Fernet.generate_key().decode()))


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[ScratchDb]:
    server_url = postgres_url()
    if server_url is None:
        pytest.skip(f"set {POSTGRES_URL_ENV} to run against PostgreSQL")
    async with postgres_scratch(server_url) as database:
        yield database


def sqlite_spec(path: Path | str) -> ConnectionSpec:
    return ConnectionSpec(kind="db", database=str(path))


async def raw_rows(db: Database) -> list[dict[str, Any]]:
    async with db.read_session() as session:
        result = await session.execute(text("SELECT * FROM connections ORDER BY org_id, name"))
        return [dict(row) for row in result.mappings()]


async def expect_invalid(
    service: ConnectionService, db: Database, spec: ConnectionSpec, *fragments: str, **kw: Any
) -> str:
    """create() refuses with every fragment in its message, and nothing is stored."""
    before = await raw_rows(db)
    with pytest.raises(InvalidInputError) as raised:
        await service.create(org_id="acme", name="flags", spec=spec, **kw)
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message
    assert await raw_rows(db) == before
    return message


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- create and validation -----------------------------------------------------------------


async def test_a_postgres_connection_defaults_to_port_5432_and_keeps_its_database(
    service: ConnectionService,
) -> None:
    view = await service.create(
        org_id="acme", name="pg", spec=POSTGRES, credential=Credential("password", PASSWORD)
    )
    assert (view.host, view.port, view.username, view.database) == (
        "pg.internal",
        5432,
        "app",
        "payments",
    )
    assert (view.has_credential, view.credential_kind) == (True, CredentialKind.PASSWORD)
    assert (await service.get(org_id="acme", name="pg")).database == "payments"


async def test_a_sqlite_connection_is_a_file_with_no_host_port_or_credential(
    service: ConnectionService,
) -> None:
    view = await service.create(org_id="acme", name="local-db", spec=sqlite_spec("/srv/a.db"))
    assert (view.host, view.port, view.username, view.database) == (None, None, None, "/srv/a.db")
    assert view.has_credential is False


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (replace(POSTGRES, database=None), "database: required: the PostgreSQL database name"),
        (replace(POSTGRES, database="x" * 64), "database: a PostgreSQL database name of 1 to 63"),
        (replace(POSTGRES, username=None), "username: required for a PostgreSQL db connection"),
        (replace(POSTGRES, port=70000), "port: must be 1 to 65535"),
        (
            ConnectionSpec(kind="db"),
            "database: required: with no host, the absolute path of a SQLite file",
        ),
        (sqlite_spec("data/app.db"), "database: with no host, the absolute path of a SQLite"),
        (sqlite_spec("/srv/a\x00.db"), "database: a file path of at most 4096 printable"),
        (
            replace(sqlite_spec("/srv/a.db"), port=5432),
            "port: not used by a SQLite db connection (no host)",
        ),
        (
            replace(sqlite_spec("/srv/a.db"), username="app"),
            "username: not used by a SQLite db connection (no host)",
        ),
        (ConnectionSpec(kind="local", database="/srv/a.db"), "database: only used by db"),
        (ConnectionSpec(kind="http", host="api", database="x"), "database: only used by db"),
    ],
)
async def test_bad_db_fields_are_refused_by_name_and_nothing_is_stored(
    service: ConnectionService, db: Database, spec: ConnectionSpec, expected: str
) -> None:
    await expect_invalid(service, db, spec, expected)


async def test_a_sqlite_connection_takes_no_credential(
    service: ConnectionService, db: Database
) -> None:
    message = await expect_invalid(
        service,
        db,
        sqlite_spec("/srv/a.db"),
        "credential: a SQLite db connection (no host) takes no credential; omit it",
        credential=Credential("password", PASSWORD),
    )
    assert PASSWORD not in message


async def test_a_kept_password_cannot_follow_a_switch_to_sqlite(
    service: ConnectionService, db: Database
) -> None:
    await service.create(
        org_id="acme", name="pg", spec=POSTGRES, credential=Credential("password", PASSWORD)
    )
    before = await raw_rows(db)
    with pytest.raises(InvalidInputError, match="send credential: null to remove the stored one"):
        await service.update(org_id="acme", name="pg", spec=sqlite_spec("/srv/a.db"))
    assert await raw_rows(db) == before

    view = await service.update(
        org_id="acme", name="pg", spec=sqlite_spec("/srv/a.db"), credential=None
    )
    assert (view.host, view.database, view.has_credential) == (None, "/srv/a.db", False)


async def test_update_changes_the_database(service: ConnectionService) -> None:
    await service.create(org_id="acme", name="pg", spec=POSTGRES)
    view = await service.update(org_id="acme", name="pg", spec=replace(POSTGRES, database="b"))
    assert view.database == "b"
    assert (await service.get(org_id="acme", name="pg")).database == "b"


# --- resolve_db_target ---------------------------------------------------------------------


async def test_resolve_decrypts_the_password_into_a_target(service: ConnectionService) -> None:
    await service.create(
        org_id="acme",
        name="pg",
        spec=replace(POSTGRES, port=6432),
        credential=Credential("password", PASSWORD),
    )
    target = await service.resolve_db_target("acme", "pg", connect_timeout=4)
    assert (target.host, target.port, target.username, target.database) == (
        "pg.internal",
        6432,
        "app",
        "payments",
    )
    assert (target.password, target.connect_timeout) == (PASSWORD, 4)
    assert PASSWORD not in repr(target)


async def test_resolve_refuses_unknown_other_org_and_other_kinds(
    service: ConnectionService,
) -> None:
    await service.create(org_id="other", name="pg", spec=POSTGRES)
    await service.create(org_id="acme", name="worker", spec=ConnectionSpec(kind="local"))
    with pytest.raises(NotFoundError, match="no connection 'pg' in this organisation"):
        await service.resolve_db_target("acme", "pg")
    with pytest.raises(NotFoundError, match="no connection 'nope'"):
        await service.resolve_db_target("acme", "nope")
    with pytest.raises(InvalidInputError, match="'worker' is of kind local, not db"):
        await service.resolve_db_target("acme", "worker")


async def test_resolve_refuses_fireline_own_files(
    service: ConnectionService, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    app_db = tmp_path / "fireline.db"
    data_dir.mkdir()
    (tmp_path / "link.db").symlink_to(app_db)
    for name, path in [
        ("inside", data_dir / "fireline.db"),
        ("same", app_db),
        ("linked", tmp_path / "link.db"),
        ("dotted", data_dir / ".." / "fireline.db"),
    ]:
        await service.create(org_id="acme", name=name, spec=sqlite_spec(path))
        with pytest.raises(InvalidInputError, match="points at Fireline's own data"):
            await service.resolve_db_target("acme", name, protected_paths=[data_dir, app_db])
    await service.create(org_id="acme", name="elsewhere", spec=sqlite_spec(tmp_path / "a.db"))
    target = await service.resolve_db_target(
        "acme", "elsewhere", protected_paths=[data_dir, app_db]
    )
    assert target.database == str(tmp_path / "a.db")


# --- test(): a real login ---------------------------------------------------------------------


async def test_a_sqlite_file_is_checked_by_opening_it(
    service: ConnectionService, tmp_path: Path
) -> None:
    scratch = sqlite_scratch(tmp_path)
    await service.create(org_id="acme", name="ok", spec=sqlite_spec(scratch.target.database))
    await service.create(org_id="acme", name="gone", spec=sqlite_spec(tmp_path / "none.db"))
    ok = await service.test(org_id="acme", name="ok")
    gone = await service.test(org_id="acme", name="gone")
    assert (ok.reachable, ok.host_key_ok, ok.authenticated, ok.error) == (True, None, True, None)
    assert (gone.reachable, gone.authenticated) == (False, False)
    assert gone.error is not None
    assert f"cannot open SQLite file {tmp_path / 'none.db'}" in gone.error
    assert not (tmp_path / "none.db").exists()


async def test_a_postgres_connection_is_checked_with_a_login(
    service: ConnectionService, postgres: ScratchDb
) -> None:
    target = postgres.target
    assert target.password is not None
    spec = ConnectionSpec(
        kind="db",
        host=target.host,
        port=target.port,
        username=target.username,
        database=target.database,
    )
    await service.create(
        org_id="acme", name="good", spec=spec, credential=Credential("password", target.password)
    )
    await service.create(
        org_id="acme", name="bad", spec=spec, credential=Credential("password", PASSWORD)
    )
    await service.create(org_id="acme", name="down", spec=replace(spec, port=closed_port()))
    good, bad, down = [
        await service.test(org_id="acme", name=name) for name in ("good", "bad", "down")
    ]
    assert (good.reachable, good.authenticated, good.error) == (True, True, None)
    assert (bad.reachable, bad.authenticated) == (True, False)
    assert bad.error is not None and "password authentication failed" in bad.error
    assert PASSWORD not in bad.error and target.password not in bad.error
    assert (down.reachable, down.authenticated) == (False, False)
    assert down.error is not None and "cannot connect to 127.0.0.1:" in down.error
