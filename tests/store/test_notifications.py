"""Stored notifications: dedup on retry, ordered replay per org."""

from __future__ import annotations

from store.db import Database
from store.notifications import add_notification, latest_notification_id, notifications_since


async def notify(db: Database, org_id: str, message: str, dedup_key: str | None = None) -> int:
    async with db.session() as session:
        return await add_notification(
            session,
            org_id=org_id,
            message=message,
            title="Ticket created",
            severity="info",
            links=[{"text": "OPS-1", "url": "https://jira/OPS-1", "external": True}],
            incident_id="inc_1",
            source="run-1",
            dedup_key=dedup_key,
        )


async def test_a_retry_with_the_same_dedup_key_returns_the_stored_id(db: Database) -> None:
    first = await notify(db, "acme", "created OPS-1", dedup_key="run-1:notify")
    again = await notify(db, "acme", "created OPS-1", dedup_key="run-1:notify")
    other_org = await notify(db, "globex", "created OPS-1", dedup_key="run-1:notify")
    assert first == again != other_org
    async with db.read_session() as session:
        assert len(await notifications_since(session, "acme", 0, 10)) == 1


async def test_notifications_without_dedup_key_are_all_kept(db: Database) -> None:
    assert await notify(db, "acme", "a") != await notify(db, "acme", "b")


async def test_since_returns_the_orgs_rows_after_an_id_in_order(db: Database) -> None:
    first = await notify(db, "acme", "one")
    await notify(db, "globex", "theirs")
    await notify(db, "acme", "two")
    await notify(db, "acme", "three")
    async with db.read_session() as session:
        after_first = await notifications_since(session, "acme", first, 10)
        limited = await notifications_since(session, "acme", 0, 2)
    assert [n.message for n in after_first] == ["two", "three"]
    assert [n.message for n in limited] == ["one", "two"]
    assert after_first[0].links == [
        {"text": "OPS-1", "url": "https://jira/OPS-1", "external": True}
    ]


async def test_the_latest_id_is_the_orgs_newest_and_0_without_any(db: Database) -> None:
    async with db.read_session() as session:
        assert await latest_notification_id(session, "acme") == 0
    await notify(db, "acme", "first")
    newest = await notify(db, "acme", "second")
    await notify(db, "globex", "another org's")

    async with db.read_session() as session:
        assert await latest_notification_id(session, "acme") == newest
