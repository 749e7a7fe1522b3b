"""Connections and org settings tables: per-org rows, credential columns, migration 0003."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from store import connections, org_settings
from store.connections import (
    KEEP_CREDENTIAL,
    NO_CREDENTIAL,
    ConnectionFields,
    ConnectionRecord,
    StoredCredential,
)
from store.db import Database
from store.migrate import alembic_config
from store.models import ConnectionModel, OrgSettingsModel
from tests.store.helpers import count_rows

SSH = ConnectionFields(
    kind="ssh",
    host="db-1.internal",
    port=22,
    username="deploy",
    tags=["payments", "primary"],
    environment="production",
    host_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLE",
    known_hosts=None,
)
KEY = StoredCredential(kind="private_key", ciphertext="c-key", passphrase_ciphertext="c-pass")
NEW_TABLES = {"connections", "org_settings"}


async def insert(
    db: Database,
    org_id: str = "acme",
    name: str = "db-1",
    fields: ConnectionFields = SSH,
    credential: StoredCredential = KEY,
) -> ConnectionRecord | None:
    async with db.session() as session:
        return await connections.insert_connection(
            session, org_id=org_id, name=name, fields=fields, credential=credential
        )


async def fetch(db: Database, org_id: str, name: str) -> ConnectionRecord | None:
    async with db.read_session() as session:
        return await connections.get_connection(session, org_id, name)


async def test_an_inserted_connection_reads_back_with_every_column(db: Database) -> None:
    created = await insert(db)
    assert created is not None
    assert (created.org_id, created.name, created.kind, created.host, created.port) == (
        "acme",
        "db-1",
        "ssh",
        "db-1.internal",
        22,
    )
    assert (created.tags, created.environment, created.host_key) == (
        ["payments", "primary"],
        "production",
        SSH.host_key,
    )
    assert (
        created.credential_kind,
        created.credential_ciphertext,
        created.credential_passphrase_ciphertext,
    ) == ("private_key", "c-key", "c-pass")
    assert created.created_at == created.updated_at
    assert await fetch(db, "acme", "db-1") == created


async def test_inserting_a_taken_name_changes_nothing(db: Database) -> None:
    first = await insert(db)
    again = await insert(db, fields=replace(SSH, host="other"), credential=NO_CREDENTIAL)
    assert again is None
    assert await fetch(db, "acme", "db-1") == first
    async with db.read_session() as session:
        assert await count_rows(session, ConnectionModel) == 1


async def test_names_are_per_org_and_listing_is_by_name(db: Database) -> None:
    for name in ("web-2", "app", "web-1"):
        await insert(db, "acme", name)
    await insert(db, "globex", "app", fields=replace(SSH, host="globex-app"))
    async with db.read_session() as session:
        acme = await connections.list_connections(session, "acme")
        globex = await connections.list_connections(session, "globex")
        nobody = await connections.list_connections(session, "initech")
    assert [c.name for c in acme] == ["app", "web-1", "web-2"]
    assert [(c.org_id, c.name, c.host) for c in globex] == [("globex", "app", "globex-app")]
    assert nobody == []
    assert await fetch(db, "initech", "app") is None


async def test_update_replaces_fields_and_keeps_the_credential_when_asked(db: Database) -> None:
    created = await insert(db)
    assert created is not None
    local = ConnectionFields("local", None, None, None, [], None, None, None)
    async with db.session() as session:
        updated = await connections.update_connection(
            session, org_id="acme", name="db-1", fields=local, credential=KEEP_CREDENTIAL
        )
    assert updated is not None
    assert (updated.kind, updated.host, updated.port, updated.tags) == ("local", None, None, [])
    assert (updated.credential_kind, updated.credential_ciphertext) == ("private_key", "c-key")
    assert updated.created_at == created.created_at
    assert updated.updated_at >= created.updated_at
    assert await fetch(db, "acme", "db-1") == updated


async def test_update_can_replace_or_clear_the_credential(db: Database) -> None:
    await insert(db)
    password = StoredCredential(kind="password", ciphertext="c-pw", passphrase_ciphertext=None)
    async with db.session() as session:
        replaced = await connections.update_connection(
            session, org_id="acme", name="db-1", fields=SSH, credential=password
        )
    assert replaced is not None
    assert (
        replaced.credential_kind,
        replaced.credential_ciphertext,
        replaced.credential_passphrase_ciphertext,
    ) == ("password", "c-pw", None)
    async with db.session() as session:
        cleared = await connections.update_connection(
            session, org_id="acme", name="db-1", fields=SSH, credential=NO_CREDENTIAL
        )
    assert cleared is not None
    assert (cleared.credential_kind, cleared.credential_ciphertext) == ("none", None)


async def test_update_and_delete_do_not_reach_another_orgs_connection(db: Database) -> None:
    original = await insert(db, "acme", "db-1")
    async with db.session() as session:
        updated = await connections.update_connection(
            session, org_id="globex", name="db-1", fields=SSH, credential=NO_CREDENTIAL
        )
        deleted = await connections.delete_connection(session, "globex", "db-1")
    assert (updated, deleted) == (None, False)
    assert await fetch(db, "acme", "db-1") == original
    async with db.read_session() as session:
        assert await count_rows(session, ConnectionModel) == 1


async def test_delete_removes_only_that_connection(db: Database) -> None:
    await insert(db, "acme", "db-1")
    await insert(db, "acme", "db-2")
    async with db.session() as session:
        first = await connections.delete_connection(session, "acme", "db-1")
    async with db.session() as session:
        again = await connections.delete_connection(session, "acme", "db-1")
    assert (first, again) == (True, False)
    assert await fetch(db, "acme", "db-1") is None
    assert await fetch(db, "acme", "db-2") is not None


# --- org settings ---------------------------------------------------------------------


async def test_org_settings_are_absent_until_set_then_replaced_per_org(db: Database) -> None:
    async with db.read_session() as session:
        assert await org_settings.get_org_settings(session, "acme") is None
    async with db.session() as session:
        first = await org_settings.put_execution_mode(
            session, "acme", execution_mode="auto", auto_threshold=0.9
        )
    async with db.session() as session:
        second = await org_settings.put_execution_mode(
            session, "acme", execution_mode="hil", auto_threshold=0.25
        )
    assert (first.execution_mode, first.auto_threshold) == ("auto", 0.9)
    assert (second.execution_mode, second.auto_threshold) == ("hil", 0.25)
    assert second.updated_at >= first.updated_at
    async with db.read_session() as session:
        assert await org_settings.get_org_settings(session, "acme") == second
        assert await org_settings.get_org_settings(session, "globex") is None
        assert await count_rows(session, OrgSettingsModel) == 1


# --- migration 0003 -------------------------------------------------------------------


def _migrate(revision: str, *, down: bool) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        config = alembic_config(connection)
        (command.downgrade if down else command.upgrade)(config, revision)

    return run


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names)


async def test_migration_0003_can_be_undone_and_redone(db: Database) -> None:
    await insert(db)
    async with db.engine.begin() as connection:
        await connection.run_sync(_migrate("0002_ingestion", down=True))
    assert not NEW_TABLES & await _tables(db)
    assert "webhook_configs" in await _tables(db)

    async with db.engine.begin() as connection:
        await connection.run_sync(_migrate("head", down=False))
    assert await _tables(db) >= NEW_TABLES
    assert await insert(db) is not None  # the table is back, empty
