"""Bodies that are JSON but not the source's shape: one error naming every problem."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ingest.sources import SOURCES, PayloadShapeError, UnknownSourceError, map_delivery
from tests.ingest.payloads import RECEIVED_AT, deliver, load, with_value, without


def shape_problems(source: str, payload: Any) -> list[str]:
    """The problems the mapping reports, checking the payload was left as it was."""
    before = copy.deepcopy(payload)
    with pytest.raises(PayloadShapeError) as caught:
        deliver(source, payload)
    assert payload == before, "a refused payload must not be changed"
    assert caught.value.source == source
    assert str(caught.value) == f"not a {source} payload: " + "; ".join(caught.value.problems)
    return caught.value.problems


def test_unknown_source_names_it_and_lists_the_known_ones_sorted() -> None:
    with pytest.raises(UnknownSourceError) as caught:
        map_delivery("opsgenie", {}, {}, RECEIVED_AT)

    assert isinstance(caught.value, LookupError)
    assert str(caught.value) == (
        "unknown webhook source 'opsgenie'; known sources: "
        "alertmanager, datadog, gcp, grafana, newrelic, pagerduty, servicenow, zabbix"
    )


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize(
    ("body", "described"),
    [([], "an array"), ("text", "a string"), (3, "a number"), (None, "null"), (True, "a boolean")],
)
def test_a_body_that_is_not_an_object_is_refused(source: str, body: Any, described: str) -> None:
    assert shape_problems(source, body) == [f"$: expected a JSON object, got {described}"]


def test_pagerduty_body_with_neither_v3_event_nor_v2_messages() -> None:
    assert shape_problems("pagerduty", {"incident": {"id": "P1"}}) == [
        "event: missing (a V3 webhook sends it)",
        "messages: missing (a V2 webhook sends it)",
    ]


def test_pagerduty_v3_without_incident_id_and_title_names_both() -> None:
    payload = load("pagerduty-v3-incident.triggered.json")
    payload = without(without(payload, "event.data.id"), "event.data.title")

    assert shape_problems("pagerduty", payload) == [
        "event.data.id: missing",
        "event.data.title: missing",
    ]


def test_pagerduty_v3_wrong_types_are_named() -> None:
    payload = with_value(load("pagerduty-v3-incident.triggered.json"), "event.data.title", ["x"])

    assert shape_problems("pagerduty", payload) == ["event.data.title: expected a string"]
    assert shape_problems("pagerduty", {"event": "incident.triggered"}) == [
        "event: expected an object",
        "event.data.id: missing",
        "event.data.title: missing",
    ]


def test_pagerduty_v3_ping_is_accepted_without_incidents() -> None:
    ping = {
        "event": {
            "id": "01BZZ",
            "event_type": "pagey.ping",
            "resource_type": "pagey",
            "occurred_at": "2021-06-04T13:35:29.781Z",
            "data": {"message": "Hello from your friend Pagey!", "type": "ping"},
        }
    }

    delivery = deliver("pagerduty", ping)

    assert (delivery.incidents, delivery.delivery_id) == ([], "01BZZ")
    assert delivery.notes == ["ignored a pagey.ping event"]


def test_pagerduty_v2_messages_not_a_list_and_incomplete_messages() -> None:
    assert shape_problems("pagerduty", {"messages": {"id": "m1"}}) == ["messages: expected a list"]
    good = load("pagerduty-v2-incident.trigger.json")["messages"][0]
    no_id = without(good, "incident.id")
    no_incident = without(good, "incident")

    assert shape_problems("pagerduty", {"messages": [good, no_id, no_incident, "x"]}) == [
        "messages[1].incident.id: missing",
        "messages[2].incident: missing",
        "messages[3]: expected an object",
    ]


def test_datadog_default_template_is_refused_with_what_to_change() -> None:
    default_template = {
        "body": "Something happened",
        "last_updated": "1733930378000",
        "event_type": "log_alert",
        "title": "[P2] [Warn] Something",
        "date": "1733930378000",
        "org": {"id": "831563", "name": "Acme"},
        "id": "7879713311244615328",
    }

    problems = shape_problems("datadog", default_template)

    assert problems == [
        "monitor_id: missing (and no alert_cycle_key); Datadog's default template has "
        "neither: use Fireline's payload template"
    ]


def test_datadog_without_title_and_ids_names_both() -> None:
    payload = without(without(load("datadog-warn.json"), "monitor_id"), "title")

    assert len(shape_problems("datadog", payload)) == 2
    assert shape_problems("datadog", payload)[1] == "title: missing"


def test_datadog_unexpanded_cycle_key_counts_as_missing() -> None:
    payload = with_value(
        without(load("datadog-warn.json"), "monitor_id"), "alert_cycle_key", "$ALERT_CYCLE_KEY"
    )

    assert shape_problems("datadog", payload)[0].startswith("monitor_id: missing")


def test_new_relic_without_id_and_title() -> None:
    payload = without(without(load("newrelic-created.json"), "id"), "title")

    assert shape_problems("newrelic", payload) == ["id: missing", "title: missing"]


def test_blank_or_null_required_text_is_missing_and_other_types_are_named() -> None:
    payload = with_value(with_value(load("newrelic-created.json"), "id", "   "), "title", None)

    assert shape_problems("newrelic", payload) == ["id: missing", "title: missing"]
    assert shape_problems("newrelic", with_value(payload, "id", {"uuid": "x"}))[0] == (
        "id: expected a string"
    )


@pytest.mark.parametrize("source", ["alertmanager", "grafana"])
def test_alert_group_without_alerts_or_with_alerts_not_a_list(source: str) -> None:
    payload = load("grafana-firing.json")

    assert shape_problems(source, without(payload, "alerts")) == ["alerts: missing"]
    assert shape_problems(source, with_value(payload, "alerts", {"0": {}})) == [
        "alerts: expected a list"
    ]


@pytest.mark.parametrize("source", ["alertmanager", "grafana"])
def test_alert_without_labels_is_named_by_index(source: str) -> None:
    payload = load("alertmanager-firing.json")
    payload = with_value(without(payload, "alerts.1.labels"), "alerts.0.labels", "critical")
    payload["alerts"].append("not an alert")

    assert shape_problems(source, payload) == [
        "alerts[0].labels: expected an object",
        "alerts[1].labels: missing",
        "alerts[2]: expected an object",
    ]


def test_alert_group_with_no_alerts_maps_to_no_incidents() -> None:
    payload = with_value(load("alertmanager-firing.json"), "alerts", [])

    assert deliver("alertmanager", payload).incidents == []


def test_gcp_without_incident_id() -> None:
    payload = load("gcp-monitoring-open.json")

    assert shape_problems("gcp", without(payload, "incident.incident_id")) == [
        "incident.incident_id: missing"
    ]
    assert shape_problems("gcp", {"version": "1.2"}) == ["incident.incident_id: missing"]


def test_zabbix_without_any_id_or_title_names_both() -> None:
    assert shape_problems("zabbix", {"hostname": "db1", "status": "PROBLEM"}) == [
        "event_id: missing (nor trigger_id, nor a link with triggerid=)",
        "trigger: missing (nor event_name)",
    ]


def test_zabbix_unexpanded_macros_count_as_missing() -> None:
    payload = {
        "event_id": "{EVENT.ID}",
        "trigger_id": "{TRIGGER.ID}",
        "event_name": "{EVENT.NAME}",
        "link": "{$ZABBIX.URL}/tr_events.php?triggerid={TRIGGER.ID}&eventid={EVENT.ID}",
    }

    assert shape_problems("zabbix", payload) == [
        "event_id: missing (nor trigger_id, nor a link with triggerid=)",
        "trigger: missing (nor event_name)",
    ]
