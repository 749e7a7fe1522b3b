"""The projection alone: every event type, from events only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from store.enums import EventType
from store.projection import apply_event, replay
from store.records import StoredEvent
from store.timeline import event_rows

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def event(seq: int, type: EventType, payload: dict[str, Any], actor: str = "alice") -> StoredEvent:
    return StoredEvent(
        org_id="acme",
        incident_id="inc_1",
        seq=seq,
        ts=T0 + timedelta(minutes=seq),
        type=type.value,
        payload=payload,
        actor=actor,
    )


CREATED = event(1, EventType.CREATED, {"title": "DB down", "severity": "SEV2", "service": "db"})


def test_created_sets_every_column_from_the_event() -> None:
    snapshot = apply_event(None, CREATED)
    assert snapshot == {
        "id": "inc_1",
        "org_id": "acme",
        "title": "DB down",
        "description": None,
        "severity": "SEV2",
        "original_severity": "SEV2",
        "status": "OPEN",
        "service": "db",
        "environment": None,
        "team": None,
        "region": None,
        "source_type": None,
        "source_ref": None,
        "started_at": None,
        "links": [],
        "custom_fields": {},
        "enrichments": {},
        "tags": [],
        "created_at": CREATED.ts,
        "updated_at": CREATED.ts,
        "resolved_at": None,
        "last_seq": 1,
        "project_id": None,
        "detected_by": None,
        "primary_signal_id": None,
        "runbook_path": None,
        "external_refs": [],
        "correlation_keys": [],
        "ended_at": None,
        "detected_at": None,
        "collection_context": None,
        "triage": None,
        "triage_status": None,
    }


def test_updated_merges_only_known_fields() -> None:
    changes = {"title": "DB slow", "environment": "prod", "status": "RESOLVED"}
    snapshot = replay([CREATED, event(2, EventType.UPDATED, {"changes": changes})])
    assert snapshot is not None
    assert (snapshot["title"], snapshot["environment"]) == ("DB slow", "prod")
    assert snapshot["status"] == "OPEN"  # status only moves through STATUS_CHANGED


def test_status_changes_set_and_clear_resolved_at() -> None:
    resolved = event(2, EventType.STATUS_CHANGED, {"from": "OPEN", "to": "RESOLVED"})
    reopened = event(3, EventType.STATUS_CHANGED, {"from": "RESOLVED", "to": "OPEN"})
    after_resolve = replay([CREATED, resolved])
    after_reopen = replay([CREATED, resolved, reopened])
    assert after_resolve is not None and after_reopen is not None
    assert (after_resolve["status"], after_resolve["resolved_at"]) == ("RESOLVED", resolved.ts)
    assert (after_reopen["status"], after_reopen["resolved_at"]) == ("OPEN", None)


def test_resolved_event() -> None:
    resolved = event(2, EventType.RESOLVED, {})
    snapshot = replay([CREATED, resolved])
    assert snapshot is not None
    assert (snapshot["status"], snapshot["resolved_at"]) == ("RESOLVED", resolved.ts)


def test_severity_change_keeps_the_original() -> None:
    snapshot = replay(
        [CREATED, event(2, EventType.SEVERITY_CHANGED, {"from": "SEV2", "to": "SEV1"})]
    )
    assert snapshot is not None
    assert (snapshot["severity"], snapshot["original_severity"]) == ("SEV1", "SEV2")


def test_tags_are_a_sorted_set() -> None:
    snapshot = replay(
        [
            CREATED,
            event(2, EventType.TAG_ADDED, {"tag": "db"}),
            event(3, EventType.TAG_ADDED, {"tag": "az-1"}),
            event(4, EventType.TAG_ADDED, {"tag": "db"}),
            event(5, EventType.TAG_REMOVED, {"tag": "az-1"}),
        ]
    )
    assert snapshot is not None and snapshot["tags"] == ["db"]


def test_signals_slo_violations_and_actions_become_rows_not_snapshot_lists() -> None:
    signal = event(2, EventType.SIGNAL_INGESTED, {"source": "prom", "summary": "5xx"})
    slo = event(
        3,
        EventType.SLO_VIOLATION_RECORDED,
        {
            "slo_id": "availability",
            "window_start": "2025-01-01T11:00:00+00:00",
            "window_end": "2025-01-01T12:00:00+00:00",
            "error_budget_consumed": 40,
            "threshold_breached": True,
        },
    )
    action = event(4, EventType.PLAYBOOK_ACTION_EXECUTED, {"action": "restart"}, actor="bot")
    created = apply_event(None, CREATED)
    snapshot = replay([CREATED, signal, slo, action])
    assert snapshot == {
        **created,
        "primary_signal_id": "inc_1-s2",
        "updated_at": action.ts,
        "last_seq": 4,
    }
    rows = [values for e in (signal, slo, action) for _, values in event_rows(e, created)]
    assert [(row["seq"], row["ts"]) for row in rows] == [
        (2, signal.ts),
        (3, slo.ts),
        (4, action.ts),
    ]
    assert (rows[0]["signal_type"], rows[0]["summary"]) == ("EVENT", "5xx")
    assert (rows[1]["slo_id"], rows[1]["error_budget_consumed"]) == ("availability", 40.0)
    assert (rows[2]["action_kind"], rows[2]["label"], rows[2]["actor_ref"]) == (
        "PLAYBOOK",
        "restart",
        "bot",
    )


def test_ticket_link_and_enrichments_merge_into_enrichments() -> None:
    snapshot = replay(
        [
            CREATED,
            event(2, EventType.ENRICHED, {"enrichments": {"target_project": "OPS"}}),
            event(3, EventType.LINKED_TO_TICKET, {"id": "OPS-1", "url": "https://j/OPS-1"}),
        ]
    )
    assert snapshot is not None
    assert snapshot["enrichments"] == {
        "target_project": "OPS",
        "ticket_id": "OPS-1",
        "ticket_url": "https://j/OPS-1",
    }


def test_note_only_advances_updated_at_and_seq() -> None:
    before = apply_event(None, CREATED)
    note = event(2, EventType.NOTE_ADDED, {"text": "looking"})
    after = apply_event(before, note)
    assert after == {**before, "updated_at": note.ts, "last_seq": 2}


def test_the_input_snapshot_is_not_modified() -> None:
    before = apply_event(None, CREATED)
    frozen = {**before, "correlation_keys": list(before["correlation_keys"])}
    apply_event(before, event(2, EventType.SIGNAL_INGESTED, {"correlation_key": "k"}))
    assert before == frozen


def test_events_out_of_place_are_rejected() -> None:
    with pytest.raises(ValueError, match="already exists"):
        apply_event(apply_event(None, CREATED), CREATED)
    with pytest.raises(ValueError, match="unknown incident"):
        apply_event(None, event(2, EventType.NOTE_ADDED, {"text": "x"}))


def test_triage_stages_add_up_and_a_new_analysis_starts_over() -> None:
    classified = {
        "analysis_id": "a1",
        "stage": "classified",
        "status": "analyzing",
        "classification": {"verdict": "true_positive"},
    }
    decided = {
        "analysis_id": "a1",
        "stage": "decided",
        "status": "awaiting_selection",
        "decision": {"kind": "ask"},
    }
    again = {"analysis_id": "a2", "stage": "started", "status": "analyzing"}
    snapshot = replay(
        [CREATED, event(2, EventType.TRIAGED, classified), event(3, EventType.TRIAGED, decided)]
    )
    assert snapshot is not None
    assert snapshot["triage_status"] == "awaiting_selection"
    assert snapshot["triage"]["classification"] == {"verdict": "true_positive"}
    assert snapshot["triage"]["decision"] == {"kind": "ask"}

    restarted = replay(
        [CREATED, event(2, EventType.TRIAGED, classified), event(3, EventType.TRIAGED, again)]
    )
    assert restarted is not None
    assert "classification" not in restarted["triage"]
    assert restarted["triage_status"] == "analyzing"
