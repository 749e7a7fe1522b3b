"""Datadog specifics: titles without prefixes, the dedup key, loose types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.model import SourceStatus
from tests.ingest.payloads import load, map_file, map_one, with_value, without

WARN = "datadog-warn.json"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("[P2] [Triggered] Disk full on db1", "Disk full on db1"),
        ("[Recovered] Disk full", "Disk full"),
        ("[P1] [Re-Triggered on {host:db1}] Disk full", "Disk full"),
        ("[No Data] Heartbeat", "Heartbeat"),
        ("[prod] Disk full", "[prod] Disk full"),  # not a Datadog prefix: kept
        ("[P3] [Warn]", "[P3] [Warn]"),  # nothing left after the prefix: kept whole
    ],
)
def test_title_prefixes_are_stripped(title: str, expected: str) -> None:
    assert map_one("datadog", with_value(load(WARN), "title", title)).title == expected


def test_alert_cycle_key_is_the_dedup_key_when_present() -> None:
    payload = with_value(load(WARN), "alert_cycle_key", "cycle-42")

    incident = map_one("datadog", payload)

    assert incident.source_ref == "cycle-42"
    assert incident.metadata.custom_fields["alert_cycle_key"] == "cycle-42"


def test_without_scopes_the_key_is_the_monitor_alone() -> None:
    assert map_one("datadog", without(load(WARN), "scopes")).source_ref == "134462228:"


def test_delivery_id_is_the_notification_id() -> None:
    assert map_file(WARN).delivery_id == "7879713311244615328"


def test_dates_as_numbers_are_read_too() -> None:
    payload = with_value(load(WARN), "date", 1733930378000)

    assert map_one("datadog", payload).timeline.start == datetime(
        2024, 12, 11, 15, 19, 38, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("alert_type", "severity"),
    [("error", "high"), ("warning", "medium"), ("info", "info"), ("success", "info")],
)
def test_without_priority_the_alert_type_grades(alert_type: str, severity: str) -> None:
    payload = with_value(with_value(load(WARN), "severity", ""), "alert_type", alert_type)

    incident = map_one("datadog", payload)

    assert (incident.severity, incident.original_severity) == (
        severity,
        f"alert_type:{alert_type}",
    )


def test_success_without_a_transition_resolves() -> None:
    payload = with_value(without(load(WARN), "alert_transition"), "alert_type", "success")

    assert map_one("datadog", payload).status is SourceStatus.RESOLVED


def test_description_is_the_message_without_markdown_fences() -> None:
    description = map_one("datadog", load(WARN)).description

    assert description is not None
    assert "%%%" not in description
    assert "More than **0.0** log events matched" in description


def test_evidence_event_is_the_transition_with_the_notification_id() -> None:
    (event,) = map_one("datadog", load("datadog-recovered.json")).evidence_lite.events

    assert (event.name, event.message) == ("Recovered", "Recovered: Unauthorized access to API")
    assert event.timestamp == datetime(2024, 12, 11, 15, 24, 39, tzinfo=UTC)
    assert event.model_extra == {"eventId": "7879718351573282995"}


def test_tags_become_metadata() -> None:
    metadata = map_one("datadog", load(WARN)).metadata

    assert metadata.tags == ["environment:production", "monitor", "service:keep-api"]
    assert metadata.custom_fields["monitor_id"] == "134462228"
    assert metadata.custom_fields["event_id"] == "7879713311244615328"
