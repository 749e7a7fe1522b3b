"""Webhook endpoint configs and answered deliveries."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from store import webhooks
from store.db import Database
from store.models import WebhookConfigModel, WebhookDeliveryModel
from store.webhooks import WebhookConfigRecord
from tests.store.helpers import count_rows


async def create(db: Database, org_id: str, source: str, hook_id: str) -> WebhookConfigRecord:
    async with db.session() as session:
        return await webhooks.create_config_if_missing(
            session, org_id=org_id, source=source, hook_id=hook_id, auth_kind="none"
        )


async def upsert(db: Database, org_id: str, source: str, **fields: Any) -> WebhookConfigRecord:
    values: dict[str, Any] = {
        "hook_id": "hook-1",
        "auth_kind": "bearer",
        "secret_ciphertext": "ciphertext",
        "username": None,
        "header_name": None,
        **fields,
    }
    async with db.session() as session:
        return await webhooks.upsert_config(session, org_id=org_id, source=source, **values)


async def test_creating_twice_keeps_the_first_hook(db: Database) -> None:
    first = await create(db, "acme", "pagerduty", "hook-a")
    again = await create(db, "acme", "pagerduty", "hook-b")
    assert (first.hook_id, again.hook_id) == ("hook-a", "hook-a")
    assert again == first
    async with db.read_session() as session:
        assert await count_rows(session, WebhookConfigModel) == 1


async def test_configs_are_per_org_and_per_source(db: Database) -> None:
    await create(db, "acme", "pagerduty", "acme-pd")
    await create(db, "acme", "grafana", "acme-gr")
    await create(db, "globex", "pagerduty", "globex-pd")
    async with db.read_session() as session:
        acme = await webhooks.get_config(session, "acme", "pagerduty")
        globex = await webhooks.get_config(session, "globex", "pagerduty")
        missing = await webhooks.get_config(session, "initech", "pagerduty")
    assert acme is not None and acme.hook_id == "acme-pd"
    assert globex is not None and globex.hook_id == "globex-pd"
    assert missing is None


async def test_a_hook_is_found_only_under_its_own_source(db: Database) -> None:
    await create(db, "acme", "pagerduty", "acme-pd")
    async with db.read_session() as session:
        found = await webhooks.get_config_by_hook(session, "pagerduty", "acme-pd")
        other_source = await webhooks.get_config_by_hook(session, "grafana", "acme-pd")
        unknown = await webhooks.get_config_by_hook(session, "pagerduty", "nope")
    assert found is not None and found.org_id == "acme"
    assert other_source is None and unknown is None


async def test_upsert_replaces_the_settings_but_keeps_created_at(db: Database) -> None:
    created = await create(db, "acme", "datadog", "hook-1")
    updated = await upsert(
        db, "acme", "datadog", auth_kind="basic", username="dd", secret_ciphertext="c2"
    )
    assert (updated.auth_kind, updated.username, updated.secret_ciphertext) == ("basic", "dd", "c2")
    assert updated.created_at == created.created_at
    assert updated.updated_at >= created.updated_at
    cleared = await upsert(db, "acme", "datadog", auth_kind="none", secret_ciphertext=None)
    assert (cleared.auth_kind, cleared.secret_ciphertext, cleared.username) == ("none", None, None)
    async with db.read_session() as session:
        assert await webhooks.get_config(session, "acme", "datadog") == cleared
        assert await count_rows(session, WebhookConfigModel) == 1


async def test_upsert_creates_a_missing_config(db: Database) -> None:
    stored = await upsert(db, "acme", "zabbix", hook_id="zbx")
    assert (stored.org_id, stored.source, stored.hook_id) == ("acme", "zabbix", "zbx")


async def test_two_orgs_cannot_share_a_hook_id(db: Database) -> None:
    await create(db, "acme", "pagerduty", "same-hook")
    with pytest.raises(IntegrityError):
        await upsert(db, "globex", "pagerduty", hook_id="same-hook")
    async with db.read_session() as session:
        assert await webhooks.get_config(session, "globex", "pagerduty") is None


async def test_a_delivery_is_recorded_once_and_the_first_answer_kept(db: Database) -> None:
    async with db.session() as session:
        first = await webhooks.record_delivery(
            session, "acme", "pagerduty", "d-1", 202, {"incidentIds": ["inc_1"]}
        )
    async with db.session() as session:
        again = await webhooks.record_delivery(
            session, "acme", "pagerduty", "d-1", 500, {"other": True}
        )
    assert (first, again) == (True, False)
    async with db.read_session() as session:
        stored = await webhooks.find_delivery(session, "acme", "pagerduty", "d-1")
        assert await count_rows(session, WebhookDeliveryModel) == 1
    assert stored is not None
    assert (stored.status_code, stored.response) == (202, {"incidentIds": ["inc_1"]})


async def test_a_duplicate_does_not_abort_the_rest_of_the_transaction(db: Database) -> None:
    async with db.session() as session:
        await webhooks.record_delivery(session, "acme", "grafana", "d-1", 202, {})
    async with db.session() as session:
        assert await webhooks.record_delivery(session, "acme", "grafana", "d-1", 202, {}) is False
        assert await webhooks.record_delivery(session, "acme", "grafana", "d-2", 202, {}) is True
    async with db.read_session() as session:
        assert await count_rows(session, WebhookDeliveryModel) == 2


async def test_delivery_ids_are_scoped_by_org_and_source(db: Database) -> None:
    async with db.session() as session:
        results = [
            await webhooks.record_delivery(session, org, source, "d-1", 202, {})
            for org, source in [("acme", "pagerduty"), ("globex", "pagerduty"), ("acme", "x")]
        ]
    assert results == [True, True, True]
    async with db.read_session() as session:
        assert await webhooks.find_delivery(session, "initech", "pagerduty", "d-1") is None
        assert await webhooks.find_delivery(session, "acme", "pagerduty", "d-2") is None
