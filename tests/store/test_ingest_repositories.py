"""The ingestion repositories: source keys and raw payload bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store import payloads, sources
from store.db import Database

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


async def claim(
    db: Database, org_id: str, ref: str, incident_id: str, state: dict[str, str] | None = None
) -> bool:
    async with db.session() as session:
        return await sources.claim(
            session,
            org_id=org_id,
            source_type="PAGERDUTY",
            source_ref=ref,
            incident_id=incident_id,
            last_state=state or {"status": "triggered"},
            signal_keys=[f"{incident_id}-signal"],
            now=T0,
        )


async def test_a_key_is_claimed_once_per_org(db: Database) -> None:
    assert await claim(db, "acme", "P1", "inc_a") is True
    assert await claim(db, "acme", "P1", "inc_b", {"status": "resolved"}) is False
    assert await claim(db, "globex", "P1", "inc_c") is True

    async with db.read_session() as session:
        ours = await sources.get(session, "acme", "PAGERDUTY", "P1")
        missing = await sources.get(session, "acme", "DATADOG", "P1")
    assert ours is not None and missing is None
    # The second claim changed nothing: the first one's incident and state stand.
    assert (ours.incident_id, ours.last_state, ours.signal_keys) == (
        "inc_a",
        {"status": "triggered"},
        ["inc_a-signal"],
    )
    assert (ours.created_at, ours.updated_at) == (T0, T0)


async def test_save_state_replaces_the_state_of_one_key(db: Database) -> None:
    await claim(db, "acme", "P1", "inc_a")
    await claim(db, "globex", "P1", "inc_c")
    later = T0 + timedelta(minutes=5)

    async with db.session() as session:
        await sources.save_state(
            session,
            org_id="acme",
            source_type="PAGERDUTY",
            source_ref="P1",
            last_state={"status": "resolved"},
            signal_keys=["k1"],
            now=later,
        )
        locked = await sources.get(session, "acme", "PAGERDUTY", "P1", for_update=True)

    assert locked is not None
    assert (locked.last_state, locked.signal_keys, locked.updated_at) == (
        {"status": "resolved"},
        ["k1"],
        later,
    )
    async with db.read_session() as session:
        theirs = await sources.list_for_incident(session, "globex", "inc_c")
        not_ours = await sources.list_for_incident(session, "acme", "inc_c")
    assert [(s.last_state, s.updated_at) for s in theirs] == [({"status": "triggered"}, T0)]
    assert not_ours == []


@pytest.mark.parametrize(
    ("body", "limit", "expected"),
    [
        (b"abc", 3, ("abc", False)),
        (b"abcd", 3, ("abc", True)),
        (b"", 0, ("", False)),
        ("é".encode() * 3, 3, ("é", True)),  # the half "é" at the cut is dropped
        (b"a\xffb", 10, ("a\ufffdb", False)),  # invalid UTF-8 is replaced
        (b"ab\xc3", 10, ("ab\ufffd", False)),  # a body that ends mid-character, uncut
    ],
)
def test_bounded_text(body: bytes, limit: int, expected: tuple[str, bool]) -> None:
    assert payloads.bounded_text(body, limit) == expected
