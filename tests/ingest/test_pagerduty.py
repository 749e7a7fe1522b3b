"""PagerDuty specifics: delivery ids, statuses per event type, what is kept for humans."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.model import SourceStatus
from tests.ingest.payloads import deliver, load, map_file, map_one, with_value

V3_TRIGGERED = "pagerduty-v3-incident.triggered.json"
V3_PRIORITY = "pagerduty-v3-incident.priority_updated.json"


def test_v3_delivery_id_is_the_webhook_id_header_when_sent() -> None:
    with_header = map_file(V3_TRIGGERED, headers={"x-webhook-id": "retry-123"})
    without_header = map_file(V3_TRIGGERED)

    assert with_header.delivery_id == "retry-123"
    assert without_header.delivery_id == "01BZYIL05THJDFF2Y08X9SVMTU"  # event.id
    assert with_header.incidents == without_header.incidents


def test_v2_delivery_id_is_the_message_id() -> None:
    delivery = map_file("pagerduty-v2-incident.trigger.json")

    assert delivery.delivery_id == "69a7ced0-a2cd-11e7-a799-22000a15839c"


def test_v2_messages_on_two_incidents_give_two_incidents() -> None:
    trigger = load("pagerduty-v2-incident.trigger.json")["messages"][0]
    other = with_value(trigger, "incident.id", "POTHER1")
    other = with_value(other, "id", "m-2")

    delivery = deliver("pagerduty", {"messages": [trigger, other]})

    assert [incident.source_ref for incident in delivery.incidents] == ["PRORDTY", "POTHER1"]
    assert delivery.delivery_id == "69a7ced0-a2cd-11e7-a799-22000a15839c,m-2"


@pytest.mark.parametrize(
    ("event_type", "data_status", "expected"),
    [
        ("incident.triggered", "triggered", SourceStatus.OPEN),
        ("incident.acknowledged", "acknowledged", SourceStatus.ACKNOWLEDGED),
        ("incident.unacknowledged", "triggered", SourceStatus.OPEN),
        ("incident.reopened", "triggered", SourceStatus.OPEN),
        ("incident.resolved", "resolved", SourceStatus.RESOLVED),
        # Other events (annotated, priority_updated...) follow the incident's own status.
        ("incident.annotated", "acknowledged", SourceStatus.ACKNOWLEDGED),
        ("incident.priority_updated", "resolved", SourceStatus.RESOLVED),
    ],
)
def test_v3_status(event_type: str, data_status: str, expected: SourceStatus) -> None:
    payload = with_value(load(V3_TRIGGERED), "event.event_type", event_type)
    payload = with_value(payload, "event.data.status", data_status)

    assert map_one("pagerduty", payload).status is expected


def test_v3_resolve_time_only_from_the_resolved_event() -> None:
    payload = with_value(load(V3_PRIORITY), "event.data.status", "resolved")

    incident = map_one("pagerduty", payload)

    # The priority change is not when it resolved: the status is kept, no resolve time.
    assert (incident.status, incident.timeline.resolved_at) == (SourceStatus.RESOLVED, None)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("incident.trigger", SourceStatus.OPEN),
        ("incident.acknowledge", SourceStatus.ACKNOWLEDGED),
        ("incident.unacknowledge", SourceStatus.OPEN),
        ("incident.resolve", SourceStatus.RESOLVED),
        ("incident.assign", SourceStatus.OPEN),  # from incident.status "triggered"
    ],
)
def test_v2_status_per_message_event(event: str, expected: SourceStatus) -> None:
    payload = with_value(load("pagerduty-v2-incident.trigger.json"), "messages.0.event", event)

    assert map_one("pagerduty", payload).status is expected


def test_v3_keeps_the_ids_a_human_needs() -> None:
    incident = map_one("pagerduty", load(V3_PRIORITY))

    assert incident.metadata.custom_fields == {
        "number": "2",
        "service_id": "PF9KMXH",
        "incident_key": "d3640fbd41094207a1c11e58e46b1662",
        "urgency": "high",
        "priority": "P1",
        "escalation_policy": "Default",
    }
    assert [link.label for link in incident.links] == [
        "PagerDuty incident",
        "PagerDuty API",
        "Conference bridge",
    ]


def test_v3_evidence_event_describes_the_delivery() -> None:
    (event,) = map_one("pagerduty", load(V3_PRIORITY)).evidence_lite.events

    assert event.timestamp == datetime(2020, 10, 2, 18, 45, 22, 169000, tzinfo=UTC)
    assert event.name == "incident.priority_updated"
    assert (
        event.message == "incident.priority_updated: A little bump in the road (by Tenex Engineer)"
    )
    assert event.correlation_key == "PGR0VU2"
    assert event.model_extra == {"eventId": "5ac64822-4adc-4fda-ade0-410becf0de4f"}


def test_v2_keeps_alert_keys_and_the_incident_number() -> None:
    incident = map_one("pagerduty", load("pagerduty-v2-incident.acknowledge.json"))

    assert incident.metadata.custom_fields["number"] == "33"
    assert incident.metadata.custom_fields["alert_keys"] == [
        "c24117fc42e44b44b4d6876190583378",
        "2d6ee0a6b58040f7996a4047ae5edcd7",
    ]
    # The deprecated description repeats the title: not kept twice.
    assert incident.description is None


@pytest.mark.parametrize(
    ("priority", "severity"),
    [("P1", "critical"), ("P2", "high"), ("P3", "medium"), ("P4", "low"), ("P5", "info")],
)
def test_priority_wins_over_urgency(priority: str, severity: str) -> None:
    payload = with_value(load(V3_PRIORITY), "event.data.priority.summary", priority)

    incident = map_one("pagerduty", payload)

    assert (incident.severity, incident.original_severity) == (severity, priority)


def test_low_urgency_without_priority() -> None:
    payload = with_value(load(V3_TRIGGERED), "event.data.urgency", "low")

    incident = map_one("pagerduty", payload)

    assert (incident.severity, incident.original_severity) == ("low", "urgency:low")
