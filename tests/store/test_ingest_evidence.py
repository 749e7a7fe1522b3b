"""The evidence bundle repository: added once per (org, bundle id), read only by its org."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from store import evidence
from store.db import Database
from store.models import EvidenceBundleModel
from tests.store.helpers import count_rows

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
BUNDLE = "bundle-" + "ab" * 16
EVIDENCE = {"logs": [{"message": "pool exhausted", "timestamp": "2025-01-01T11:59:00Z"}]}
PAYLOAD = {"originalFormat": "internal", "data": [1, 2.5, None, True]}


async def add(
    db: Database,
    org_id: str = "acme",
    incident_id: str = "inc_a",
    *,
    source_payload: Any = PAYLOAD,
    now: datetime = T0,
) -> bool:
    async with db.session() as session:
        return await evidence.add_if_absent(
            session,
            org_id=org_id,
            bundle_id=BUNDLE,
            incident_id=incident_id,
            evidence=EVIDENCE,
            source_payload=source_payload,
            now=now,
        )


async def bundle_rows(db: Database) -> int:
    async with db.read_session() as session:
        return await count_rows(session, EvidenceBundleModel)


async def test_a_bundle_is_added_once_and_keeps_its_first_incident(db: Database) -> None:
    assert await add(db) is True
    assert await add(db, incident_id="inc_b", now=T0 + timedelta(minutes=1)) is False
    assert await bundle_rows(db) == 1

    async with db.read_session() as session:
        found = await evidence.get(session, "acme", BUNDLE)
    assert found == evidence.EvidenceBundle(
        org_id="acme",
        bundle_id=BUNDLE,
        incident_id="inc_a",
        evidence=EVIDENCE,
        source_payload=PAYLOAD,
        created_at=T0,
    )


async def test_each_org_has_its_own_row_and_reads_only_its_own(db: Database) -> None:
    assert await add(db, "acme", "inc_a") is True
    async with db.read_session() as session:
        assert await evidence.get(session, "globex", BUNDLE) is None
    assert await add(db, "globex", "inc_g") is True
    assert await bundle_rows(db) == 2
    async with db.read_session() as session:
        theirs = await evidence.get(session, "globex", BUNDLE)
    assert theirs is not None and theirs.incident_id == "inc_g"


async def test_a_bundle_without_a_source_payload_reads_back_none(db: Database) -> None:
    await add(db, source_payload=None)
    async with db.read_session() as session:
        found = await evidence.get(session, "acme", BUNDLE)
    assert found is not None and found.source_payload is None


async def test_the_same_bundle_added_at_once_by_two_transactions_is_one_row(db: Database) -> None:
    added = await asyncio.gather(add(db, incident_id="inc_a"), add(db, incident_id="inc_b"))
    assert sorted(added) == [False, True]
    assert await bundle_rows(db) == 1
