"""Which workflow triggers an incident event fires."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from store.enums import EventType
from store.outbox import trigger_events_for
from store.records import StoredEvent


def stored(type: EventType, payload: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        org_id="acme",
        incident_id="inc_1",
        seq=2,
        ts=datetime(2026, 12, 5, tzinfo=UTC),
        type=type.value,
        payload=payload,
        actor="tester",
    )


@pytest.mark.parametrize(
    ("change", "triggers"),
    [
        ({"from": "OPEN", "to": "INVESTIGATING"}, ["status_changed"]),
        ({"from": "OPEN", "to": "RESOLVED"}, ["status_changed", "resolved"]),
        ({"from": "RESOLVED", "to": "OPEN"}, ["status_changed", "reopened"]),
        ({"from": "CANCELLED", "to": "INVESTIGATING"}, ["status_changed", "reopened"]),
    ],
)
def test_a_status_change_fires_resolved_or_reopened_when_it_ends_or_revives(
    change: dict[str, str], triggers: list[str]
) -> None:
    assert trigger_events_for(stored(EventType.STATUS_CHANGED, change)) == triggers


def test_a_triage_stage_fires_no_workflow() -> None:
    payload = {"analysis_id": "a1", "stage": "classified", "status": "analyzing"}
    assert trigger_events_for(stored(EventType.TRIAGED, payload)) == []


@pytest.mark.parametrize(
    ("stage", "triggers"), [("verdict", ["verdict"]), ("classified", []), ("decided", [])]
)
def test_only_a_persons_verdict_among_triage_events_fires_learning(
    stage: str, triggers: list[str]
) -> None:
    event = stored(EventType.TRIAGED, {"analysis_id": "a", "stage": stage, "status": "x"})
    assert trigger_events_for(event) == triggers


@pytest.mark.parametrize(
    ("enrichments", "status", "triggers"),
    [
        ({"ticket_id": "OPS-1", "ticket_type": "jira"}, "RESOLVED", ["resolved"]),
        ({"ticket_id": "OPS-1", "ticket_type": "jira"}, "OPEN", []),
        ({"target_project": "OPS"}, "RESOLVED", []),
    ],
)
def test_a_ticket_written_back_after_the_incident_ended_fires_resolved(
    enrichments: dict[str, str], status: str, triggers: list[str]
) -> None:
    event = stored(EventType.ENRICHED, {"enrichments": enrichments})
    assert trigger_events_for(event, status) == triggers
