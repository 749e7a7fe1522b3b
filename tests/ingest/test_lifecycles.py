"""One incident's deliveries, in order, map to one source_ref with the statuses in order."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.model import GenericIncident, SourceStatus
from tests.ingest.payloads import deliver, load, map_one, with_value

OPEN, ACKNOWLEDGED, RESOLVED = SourceStatus.OPEN, SourceStatus.ACKNOWLEDGED, SourceStatus.RESOLVED


def mapped(source: str, payloads: list[object]) -> list[GenericIncident]:
    return [map_one(source, payload) for payload in payloads]


def refs_and_statuses(incidents: list[GenericIncident]) -> list[tuple[str, SourceStatus | None]]:
    return [(incident.source_ref, incident.status) for incident in incidents]


def test_pagerduty_v2_trigger_acknowledge_resolve_as_captured() -> None:
    names = ["trigger", "acknowledge", "resolve"]
    incidents = mapped("pagerduty", [load(f"pagerduty-v2-incident.{name}.json") for name in names])

    assert refs_and_statuses(incidents) == [
        ("PRORDTY", OPEN),
        ("PRORDTY", ACKNOWLEDGED),
        ("PRORDTY", RESOLVED),
    ]
    assert [incident.timeline.resolved_at for incident in incidents] == [
        None,
        None,
        datetime(2017, 9, 26, 15, 18, 9, tzinfo=UTC),
    ]


def test_pagerduty_v3_triggered_acknowledged_resolved_of_one_incident() -> None:
    names = ["triggered", "acknowledged", "resolved"]
    payloads = [
        with_value(load(f"pagerduty-v3-incident.{name}.json"), "event.data.id", "PSAME01")
        for name in names
    ]

    incidents = mapped("pagerduty", payloads)

    assert refs_and_statuses(incidents) == [
        ("PSAME01", OPEN),
        ("PSAME01", ACKNOWLEDGED),
        ("PSAME01", RESOLVED),
    ]
    assert incidents[2].timeline.resolved_at == datetime(2021, 6, 4, 13, 16, 53, 816000, tzinfo=UTC)


def test_pagerduty_v3_reopened_opens_again() -> None:
    resolved = load("pagerduty-v3-incident.resolved.json")
    reopened = with_value(
        with_value(resolved, "event.event_type", "incident.reopened"),
        "event.data.status",
        "triggered",
    )

    incident = map_one("pagerduty", reopened)

    assert (incident.status, incident.timeline.resolved_at) == (OPEN, None)


def test_datadog_warn_recovered_triggered_open_resolve_and_reopen() -> None:
    incidents = mapped(
        "datadog",
        [load(f"datadog-{name}.json") for name in ("warn", "recovered", "triggered")],
    )

    assert refs_and_statuses(incidents) == [
        ("134462228:service:keep-api", OPEN),
        ("134462228:service:keep-api", RESOLVED),
        ("134462228:service:keep-api", OPEN),
    ]
    assert [incident.timeline.resolved_at is not None for incident in incidents] == [
        False,
        True,
        False,
    ]


def test_new_relic_created_activated_acknowledged_closed_of_one_issue() -> None:
    names = ["created", "activated", "acknowledged", "closed"]
    payloads = [with_value(load(f"newrelic-{name}.json"), "id", "issue-1") for name in names]

    incidents = mapped("newrelic", payloads)

    assert refs_and_statuses(incidents) == [
        ("issue-1", OPEN),
        ("issue-1", OPEN),
        ("issue-1", ACKNOWLEDGED),
        ("issue-1", RESOLVED),
    ]


def test_alertmanager_lifecycle_without_fingerprint_shares_the_label_hash() -> None:
    firing, resolved = mapped(
        "alertmanager",
        [load(f"alertmanager-lifecycle-{name}.json") for name in ("firing", "resolved")],
    )

    assert firing.source_ref == resolved.source_ref
    assert firing.source_ref.startswith("labels:")
    assert (firing.status, resolved.status) == (OPEN, RESOLVED)
    assert firing.timeline.resolved_at is None
    assert resolved.timeline.resolved_at is not None


def test_grafana_firing_then_resolved_share_the_fingerprint() -> None:
    firing, resolved = mapped(
        "grafana", [load(f"grafana-{name}.json") for name in ("firing", "resolved")]
    )

    assert refs_and_statuses([firing, resolved]) == [
        ("1:d8a21484c9c25a60", OPEN),
        ("1:d8a21484c9c25a60", RESOLVED),
    ]


def test_gcp_open_then_closed_of_one_incident() -> None:
    # The two captures are different incidents: give the closed one the open one's id.
    opened = load("gcp-monitoring-open.json")
    closed = with_value(
        load("gcp-monitoring-closed.json"), "incident.incident_id", "0.nrwotmyokd9n"
    )

    incidents = mapped("gcp", [opened, closed])

    assert refs_and_statuses(incidents) == [
        ("0.nrwotmyokd9n", OPEN),
        ("0.nrwotmyokd9n", RESOLVED),
    ]


def test_gcp_test_notification_state_is_case_insensitive() -> None:
    payload = with_value(load("gcp-monitoring-closed-docs-example.json"), "incident.state", "OPEN")

    incident = map_one("gcp", with_value(payload, "version", "test"))

    assert (incident.status, incident.timeline.resolved_at) == (OPEN, None)
    closed = map_one("gcp", with_value(payload, "incident.state", "CLOSED"))
    assert closed.status is RESOLVED


def test_zabbix_problem_then_ok_share_the_trigger_id() -> None:
    problem, ok = mapped("zabbix", [load("zabbix-problem.json"), load("zabbix-ok.json")])

    assert refs_and_statuses([problem, ok]) == [
        ("trigger-14032", OPEN),
        ("trigger-14032", RESOLVED),
    ]
    # Each delivery's own Zabbix event id is kept on its evidence event.
    assert [incident.evidence_lite.events[0].model_extra for incident in (problem, ok)] == [
        {"eventId": "10528"},
        {"eventId": "10529"},
    ]


def test_pagerduty_v2_two_messages_on_one_incident_keep_the_last() -> None:
    trigger = load("pagerduty-v2-incident.trigger.json")["messages"][0]
    resolve = load("pagerduty-v2-incident.resolve.json")["messages"][0]

    delivery = deliver("pagerduty", {"messages": [trigger, resolve]})

    assert refs_and_statuses(delivery.incidents) == [("PRORDTY", RESOLVED)]
    assert delivery.delivery_id == f"{trigger['id']},{resolve['id']}"
