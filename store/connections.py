"""Infrastructure connections of an org, with their credentials as ciphertext."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import utcnow
from store.models import ConnectionModel
from store.rows import to_record
from store.sql import affected_rows, upsert_insert


@dataclass(frozen=True)
class ConnectionRecord:
    org_id: str
    name: str
    kind: str
    host: str | None
    port: int | None
    username: str | None
    tags: list[str]
    environment: str | None
    host_key: str | None
    known_hosts: str | None
    credential_kind: str
    credential_ciphertext: str | None
    credential_passphrase_ciphertext: str | None
    database: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ConnectionFields:
    """Everything about a connection but its name and its credential."""

    kind: str
    host: str | None
    port: int | None
    username: str | None
    tags: list[str]
    environment: str | None
    host_key: str | None
    known_hosts: str | None
    database: str | None = None  # kind db: database name or SQLite file path


@dataclass(frozen=True)
class StoredCredential:
    """A credential as the table keeps it: already encrypted."""

    kind: str
    ciphertext: str | None
    passphrase_ciphertext: str | None

    def columns(self) -> dict[str, Any]:
        return {
            "credential_kind": self.kind,
            "credential_ciphertext": self.ciphertext,
            "credential_passphrase_ciphertext": self.passphrase_ciphertext,
        }


NO_CREDENTIAL: Final = StoredCredential(kind="none", ciphertext=None, passphrase_ciphertext=None)


class _Keep(Enum):
    CREDENTIAL = "keep"


KEEP_CREDENTIAL: Final = _Keep.CREDENTIAL
"""Passed to `update_connection`: leave the stored credential as it is."""

KeepCredential = Literal[_Keep.CREDENTIAL]


async def get_connection(session: AsyncSession, org_id: str, name: str) -> ConnectionRecord | None:
    statement = (
        select(ConnectionModel)
        .where(ConnectionModel.org_id == org_id, ConnectionModel.name == name)
        .execution_options(populate_existing=True)
    )
    row = (await session.scalars(statement)).one_or_none()
    return None if row is None else to_record(ConnectionRecord, row)


async def list_connections(session: AsyncSession, org_id: str) -> list[ConnectionRecord]:
    """The org's connections, by name."""
    statement = (
        select(ConnectionModel)
        .where(ConnectionModel.org_id == org_id)
        .order_by(ConnectionModel.name)
        .execution_options(populate_existing=True)
    )
    return [to_record(ConnectionRecord, row) for row in await session.scalars(statement)]


async def insert_connection(
    session: AsyncSession,
    *,
    org_id: str,
    name: str,
    fields: ConnectionFields,
    credential: StoredCredential,
) -> ConnectionRecord | None:
    """The new connection; None (and nothing changed) when the org already has that name."""
    now = utcnow()
    statement = (
        upsert_insert(session, ConnectionModel)
        .values(
            org_id=org_id,
            name=name,
            created_at=now,
            updated_at=now,
            **asdict(fields),
            **credential.columns(),
        )
        .on_conflict_do_nothing(index_elements=[ConnectionModel.org_id, ConnectionModel.name])
    )
    if affected_rows(await session.execute(statement)) == 0:
        return None
    return await get_connection(session, org_id, name)


async def update_connection(
    session: AsyncSession,
    *,
    org_id: str,
    name: str,
    fields: ConnectionFields,
    credential: StoredCredential | KeepCredential,
) -> ConnectionRecord | None:
    """Replace the connection's fields (and credential, unless KEEP_CREDENTIAL).

    None when the org has no connection of that name.
    """
    values: dict[str, Any] = {**asdict(fields), "updated_at": utcnow()}
    if credential is not KEEP_CREDENTIAL:
        values.update(credential.columns())
    statement = (
        update(ConnectionModel)
        .where(ConnectionModel.org_id == org_id, ConnectionModel.name == name)
        .values(**values)
    )
    if affected_rows(await session.execute(statement)) == 0:
        return None
    return await get_connection(session, org_id, name)


async def delete_connection(session: AsyncSession, org_id: str, name: str) -> bool:
    """False when the org has no connection of that name."""
    statement = delete(ConnectionModel).where(
        ConnectionModel.org_id == org_id, ConnectionModel.name == name
    )
    return affected_rows(await session.execute(statement)) == 1
