"""Per-org webhook endpoints (URL segment + authentication) and deliveries already answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import utcnow
from store.models import WebhookConfigModel, WebhookDeliveryModel
from store.rows import to_record
from store.sql import affected_rows, upsert_insert


@dataclass(frozen=True)
class WebhookConfigRecord:
    org_id: str
    source: str
    hook_id: str
    auth_kind: str
    secret_ciphertext: str | None
    username: str | None
    header_name: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredDelivery:
    org_id: str
    source: str
    delivery_id: str
    received_at: datetime
    status_code: int
    response: dict[str, Any]


async def get_config(session: AsyncSession, org_id: str, source: str) -> WebhookConfigRecord | None:
    statement = (
        select(WebhookConfigModel)
        .where(WebhookConfigModel.org_id == org_id, WebhookConfigModel.source == source)
        .execution_options(populate_existing=True)
    )
    row = (await session.scalars(statement)).one_or_none()
    return None if row is None else to_record(WebhookConfigRecord, row)


async def get_config_by_hook(
    session: AsyncSession, source: str, hook_id: str
) -> WebhookConfigRecord | None:
    """The endpoint at /v1/webhooks/{source}/{hook_id}; None for another source's hook."""
    statement = (
        select(WebhookConfigModel)
        .where(WebhookConfigModel.hook_id == hook_id, WebhookConfigModel.source == source)
        .execution_options(populate_existing=True)
    )
    row = (await session.scalars(statement)).one_or_none()
    return None if row is None else to_record(WebhookConfigRecord, row)


async def create_config_if_missing(
    session: AsyncSession, *, org_id: str, source: str, hook_id: str, auth_kind: str
) -> WebhookConfigRecord:
    """The org's endpoint for `source`, created with `hook_id` unless one already exists."""
    now = utcnow()
    statement = (
        upsert_insert(session, WebhookConfigModel)
        .values(
            org_id=org_id,
            source=source,
            hook_id=hook_id,
            auth_kind=auth_kind,
            secret_ciphertext=None,
            username=None,
            header_name=None,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=[WebhookConfigModel.org_id, WebhookConfigModel.source]
        )
    )
    await session.execute(statement)
    stored = await get_config(session, org_id, source)
    assert stored is not None
    return stored


async def upsert_config(
    session: AsyncSession,
    *,
    org_id: str,
    source: str,
    hook_id: str,
    auth_kind: str,
    secret_ciphertext: str | None,
    username: str | None,
    header_name: str | None,
) -> WebhookConfigRecord:
    """Create or replace the org's endpoint for `source` (created_at is kept)."""
    now = utcnow()
    values: dict[str, Any] = {
        "hook_id": hook_id,
        "auth_kind": auth_kind,
        "secret_ciphertext": secret_ciphertext,
        "username": username,
        "header_name": header_name,
        "updated_at": now,
    }
    statement = (
        upsert_insert(session, WebhookConfigModel)
        .values(org_id=org_id, source=source, created_at=now, **values)
        .on_conflict_do_update(
            index_elements=[WebhookConfigModel.org_id, WebhookConfigModel.source], set_=values
        )
    )
    await session.execute(statement)
    stored = await get_config(session, org_id, source)
    assert stored is not None
    return stored


async def find_delivery(
    session: AsyncSession, org_id: str, source: str, delivery_id: str
) -> StoredDelivery | None:
    statement = select(WebhookDeliveryModel).where(
        WebhookDeliveryModel.org_id == org_id,
        WebhookDeliveryModel.source == source,
        WebhookDeliveryModel.delivery_id == delivery_id,
    )
    row = (await session.scalars(statement)).one_or_none()
    return None if row is None else to_record(StoredDelivery, row)


async def record_delivery(
    session: AsyncSession,
    org_id: str,
    source: str,
    delivery_id: str,
    status_code: int,
    response: dict[str, Any],
) -> bool:
    """Remember the answer given to a delivery; False (and nothing changed) when already there."""
    statement = (
        upsert_insert(session, WebhookDeliveryModel)
        .values(
            org_id=org_id,
            source=source,
            delivery_id=delivery_id,
            received_at=utcnow(),
            status_code=status_code,
            response=response,
        )
        .on_conflict_do_nothing(
            index_elements=[
                WebhookDeliveryModel.org_id,
                WebhookDeliveryModel.source,
                WebhookDeliveryModel.delivery_id,
            ]
        )
    )
    return affected_rows(await session.execute(statement)) == 1
