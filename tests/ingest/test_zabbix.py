"""Zabbix specifics on Zulip-style bodies: macros, severities, statuses."""

from __future__ import annotations

import pytest

from ingest.model import SourceStatus
from tests.ingest.payloads import load, map_one, with_value

PROBLEM = "zabbix-problem.json"


@pytest.mark.parametrize(
    ("name", "severity"),
    [
        ("Disaster", "critical"),
        ("High", "high"),
        ("Average", "medium"),
        ("Warning", "low"),
        ("Information", "info"),
        ("Not classified", None),
    ],
)
def test_severity_names(name: str, severity: str | None) -> None:
    incident = map_one("zabbix", with_value(load(PROBLEM), "severity", name))

    assert (incident.severity, incident.original_severity) == (severity, name)


@pytest.mark.parametrize(
    ("number", "severity"),
    [("5", "critical"), ("4", "high"), ("3", "medium"), ("2", "low"), ("1", "info"), ("0", None)],
)
def test_severity_numbers_win_over_renamed_names(number: str, severity: str | None) -> None:
    payload = with_value(load(PROBLEM), "severity", "Renamed by admin")

    incident = map_one("zabbix", with_value(payload, "event_nseverity", number))

    assert (incident.severity, incident.original_severity) == (severity, "Renamed by admin")


def test_event_id_is_the_key_when_expanded() -> None:
    payload = with_value(load(PROBLEM), "event_id", "10528")

    assert map_one("zabbix", payload).source_ref == "10528"


def test_an_unexpanded_event_id_falls_back_to_the_trigger() -> None:
    payload = with_value(load(PROBLEM), "event_id", "{EVENT.ID}")

    incident = map_one("zabbix", payload)

    assert incident.source_ref == "trigger-14032"
    assert "event_id" not in incident.metadata.custom_fields


def test_an_unexpanded_zabbix_url_gives_no_link_but_keeps_the_trigger() -> None:
    link = "{$ZABBIX.URL}/tr_events.php?triggerid=14032&eventid=10528"

    incident = map_one("zabbix", with_value(load(PROBLEM), "link", link))

    assert (incident.source_ref, incident.links) == ("trigger-14032", [])


def test_event_value_zero_resolves() -> None:
    payload = with_value(with_value(load(PROBLEM), "status", "PROBLEM"), "event_value", "0")

    assert map_one("zabbix", payload).status is SourceStatus.RESOLVED


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("acknowledged", SourceStatus.ACKNOWLEDGED),
        ("commented, acknowledged", SourceStatus.ACKNOWLEDGED),
        ("unacknowledged", SourceStatus.OPEN),
        ("commented", SourceStatus.OPEN),
        ("closed", SourceStatus.RESOLVED),
    ],
)
def test_update_actions(action: str, status: SourceStatus) -> None:
    payload = with_value(load(PROBLEM), "event_update_status", "1")

    incident = map_one("zabbix", with_value(payload, "event_update_action", action))

    assert incident.status is status


def test_an_acknowledge_action_without_update_status_is_not_an_update() -> None:
    payload = with_value(load(PROBLEM), "event_update_action", "acknowledged")

    assert map_one("zabbix", payload).status is SourceStatus.OPEN


def test_host_and_item_are_kept() -> None:
    incident = map_one("zabbix", load(PROBLEM))

    assert incident.description == "Agent ping is Up (1)"
    assert incident.metadata.custom_fields["host"] == "www.example.com"
    assert incident.metadata.custom_fields["trigger_id"] == "14032"


def test_tags_as_a_json_string_are_read() -> None:
    tags = '[{"tag":"service","value":"web"},{"tag":"env","value":"prod"},{"tag":"pci","value":""}]'

    metadata = map_one("zabbix", with_value(load(PROBLEM), "event_tags", tags)).metadata

    assert (metadata.service, metadata.environment) == ("web", "prod")
    assert metadata.tags == ["service:web", "env:prod", "pci"]


@pytest.mark.parametrize("tags", ["{EVENT.TAGSJSON}", "not json", '{"tag": "x"}', 5])
def test_unreadable_tags_are_ignored(tags: object) -> None:
    metadata = map_one("zabbix", with_value(load(PROBLEM), "event_tags", tags)).metadata

    assert (metadata.tags, metadata.service) == ([], "www.example.com")
