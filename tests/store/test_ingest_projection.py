"""The projection of the ingestion fields: source, team, region, links, source times."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from store.enums import EventType
from store.projection import apply_event, replay
from store.records import StoredEvent
from store.timeline import event_rows

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
LINKS = [{"url": "https://pd.example/P1", "label": "PagerDuty"}]
INGESTED = {
    "title": "DB down",
    "severity": "SEV2",
    "original_severity": "P2",
    "team": "dba",
    "region": "eu-west-1",
    "source_type": "PAGERDUTY",
    "source_ref": "P1",
    "started_at": "2025-01-01T13:55:00+02:00",
    "links": LINKS,
    "custom_fields": {"runbook": "rb-1"},
    "tags": ["db", "db", "az-1"],
}


def event(seq: int, type: EventType, payload: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        org_id="acme",
        incident_id="inc_1",
        seq=seq,
        ts=T0 + timedelta(minutes=seq),
        type=type.value,
        payload=payload,
        actor="ingest",
    )


def test_an_ingested_created_event_sets_the_source_fields() -> None:
    snapshot = apply_event(None, event(1, EventType.CREATED, INGESTED))
    assert {name: snapshot[name] for name in (*INGESTED, "resolved_at")} == {
        **INGESTED,
        "started_at": datetime(2025, 1, 1, 11, 55, tzinfo=UTC),
        "tags": ["az-1", "db"],
        "resolved_at": None,
    }
    assert snapshot["started_at"].tzinfo == UTC


def test_a_created_event_from_before_ingestion_still_replays() -> None:
    snapshot = apply_event(None, event(1, EventType.CREATED, {"title": "x", "severity": "SEV3"}))
    new_fields = ("team", "region", "source_type", "source_ref", "started_at", "links")
    assert [snapshot[name] for name in new_fields] == [None, None, None, None, None, []]
    assert (snapshot["custom_fields"], snapshot["tags"]) == ({}, [])


def test_the_snapshot_does_not_share_lists_with_the_event() -> None:
    created = event(1, EventType.CREATED, copy.deepcopy(INGESTED))
    snapshot = apply_event(None, created)
    created.payload["links"][0]["url"] = "https://changed.example"
    created.payload["custom_fields"]["runbook"] = "changed"
    assert snapshot["links"] == LINKS
    assert snapshot["custom_fields"] == {"runbook": "rb-1"}


def test_a_resolve_carrying_the_source_time_uses_it_and_a_reopen_clears_it() -> None:
    created = event(1, EventType.CREATED, INGESTED)
    resolved = event(
        2,
        EventType.STATUS_CHANGED,
        {"from": "OPEN", "to": "RESOLVED", "resolved_at": "2025-01-01T12:00:30Z"},
    )
    unknown_time = event(4, EventType.STATUS_CHANGED, {"from": "OPEN", "to": "RESOLVED"})
    reopened = event(3, EventType.STATUS_CHANGED, {"from": "RESOLVED", "to": "OPEN"})

    after_resolve = replay([created, resolved])
    after_reopen = replay([created, resolved, reopened])
    after_second = replay([created, resolved, reopened, unknown_time])

    assert after_resolve is not None and after_reopen is not None and after_second is not None
    assert after_resolve["resolved_at"] == datetime(2025, 1, 1, 12, 0, 30, tzinfo=UTC)
    assert after_reopen["resolved_at"] is None
    assert after_second["resolved_at"] == unknown_time.ts


def test_an_update_can_change_team_region_and_links_but_not_the_source() -> None:
    new_links = [{"url": "https://grafana.example/d/1", "label": None}]
    changes = {
        "team": "sre",
        "region": "us-east-1",
        "links": new_links,
        "source_ref": "P2",
        "custom_fields": {},
    }
    snapshot = replay(
        [event(1, EventType.CREATED, INGESTED), event(2, EventType.UPDATED, {"changes": changes})]
    )
    assert snapshot is not None
    assert (snapshot["team"], snapshot["region"], snapshot["links"]) == (
        "sre",
        "us-east-1",
        new_links,
    )
    assert (snapshot["source_ref"], snapshot["custom_fields"]) == ("P1", {"runbook": "rb-1"})


def test_a_signal_keeps_the_source_time_when_it_has_one() -> None:
    with_time = event(2, EventType.SIGNAL_INGESTED, {"summary": "a", "ts": "2025-01-01T11:00:00Z"})
    without = event(3, EventType.SIGNAL_INGESTED, {"summary": "b", "ts": None})
    snapshot = apply_event(None, event(1, EventType.CREATED, INGESTED))
    rows = [values for signal in (with_time, without) for _, values in event_rows(signal, snapshot)]
    assert [row["ts"] for row in rows] == [
        datetime(2025, 1, 1, 11, 0, tzinfo=UTC),
        without.ts,
    ]


def test_a_timestamp_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        apply_event(
            None, event(1, EventType.CREATED, {**INGESTED, "started_at": "2025-01-01T12:00"})
        )
