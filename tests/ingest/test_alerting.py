"""Alertmanager and Grafana: one incident per alert, relative links, the label-hash key."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from ingest.model import SourceStatus
from tests.ingest.payloads import deliver, load, map_file, map_one, with_value, without

FIRING = "alertmanager-firing.json"
RELATIVE = "alertmanager-resolved.json"
GENERATOR_PATH = "/metrics/viewer/graph?g0.expr=kube_deployment_spec_replicas"


def link_urls(source: str, payload: object) -> list[str]:
    return [link.url for link in map_one(source, payload).links]


def test_one_incident_per_alert_with_the_group_key() -> None:
    delivery = map_file(FIRING)

    assert [incident.source_ref for incident in delivery.incidents] == [
        "a1bc48475b20e73d",
        "c2ea85182f28cbd9",
    ]
    assert {incident.metadata.custom_fields["group_key"] for incident in delivery.incidents} == {
        "{}/{}:{}"
    }
    assert [incident.description for incident in delivery.incidents] == [
        "CPU core temperature is 34.75C",
        "CPU core temperature is 17.625C",
    ]
    assert delivery.delivery_id is None


def test_relative_generator_url_is_joined_onto_external_url() -> None:
    urls = link_urls("alertmanager", load(RELATIVE))

    assert urls[0].startswith("http://localhost:9093" + GENERATOR_PATH)


@pytest.mark.parametrize("external_url", ["", "/alertmanager", "ops1:9093"])
def test_relative_generator_url_is_dropped_without_an_absolute_base(external_url: str) -> None:
    payload = with_value(load(RELATIVE), "externalURL", external_url)

    assert link_urls("alertmanager", payload) == []


def test_relative_generator_url_is_dropped_without_external_url() -> None:
    assert link_urls("alertmanager", without(load(RELATIVE), "externalURL")) == []


def test_label_hash_fallback_is_sha256_of_the_sorted_labels() -> None:
    payload = load("alertmanager-lifecycle-firing.json")
    canonical = json.dumps({"alertname": "Fire", "severity": "critical"}, separators=(",", ":"))

    incident = map_one("alertmanager", payload)

    assert incident.source_ref == "labels:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def test_label_hash_does_not_depend_on_label_order() -> None:
    payload = load("alertmanager-lifecycle-firing.json")
    reordered = with_value(
        payload, "alerts.0.labels", {"severity": "critical", "alertname": "Fire"}
    )
    other = with_value(payload, "alerts.0.labels.severity", "warning")

    assert (
        map_one("alertmanager", reordered).source_ref == map_one("alertmanager", payload).source_ref
    )
    assert map_one("alertmanager", other).source_ref != map_one("alertmanager", payload).source_ref


def test_firing_alert_with_a_future_ends_at_is_not_resolved() -> None:
    payload = with_value(load(FIRING), "alerts.0.endsAt", "2999-01-01T00:00:00Z")

    incident = deliver("alertmanager", payload).incidents[0]

    assert (incident.status, incident.timeline.resolved_at) == (SourceStatus.OPEN, None)


def test_resolved_alert_with_zero_ends_at_has_no_resolve_time() -> None:
    payload = with_value(load(RELATIVE), "alerts.0.endsAt", "0001-01-01T00:00:00Z")

    incident = map_one("alertmanager", payload)

    assert (incident.status, incident.timeline.resolved_at) == (SourceStatus.RESOLVED, None)


def test_a_group_mixing_firing_and_resolved_alerts_maps_each_alert_on_its_own() -> None:
    payload = with_value(load(FIRING), "alerts.1.status", "resolved")
    payload = with_value(payload, "alerts.1.endsAt", "2020-02-06T00:30:00Z")

    first, second = deliver("alertmanager", payload).incidents

    assert (first.status, first.timeline.resolved_at) == (SourceStatus.OPEN, None)
    assert second.status is SourceStatus.RESOLVED
    assert second.timeline.resolved_at == datetime(2020, 2, 6, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("label", "severity"),
    [
        ("CRITICAL", "critical"),
        ("page", "critical"),
        ("Error", "high"),
        ("major", "high"),
        ("warn", "medium"),
        ("average", "medium"),
        ("minor", "low"),
        ("none", "info"),
        ("sev1", None),
    ],
)
def test_severity_label_is_case_insensitive(label: str, severity: str | None) -> None:
    incident = map_one(
        "alertmanager",
        with_value(load("alertmanager-lifecycle-firing.json"), "alerts.0.labels.severity", label),
    )

    assert (incident.severity, incident.original_severity) == (severity, label)


def test_labels_fill_service_environment_and_tags() -> None:
    labels = {"alertname": "Down", "service": "api", "env": "prod", "team": "core", "zone": "eu"}
    payload = with_value(load("alertmanager-lifecycle-firing.json"), "alerts.0.labels", labels)

    metadata = map_one("alertmanager", payload).metadata

    assert (metadata.service, metadata.environment, metadata.team, metadata.region) == (
        "api",
        "prod",
        "core",
        "eu",
    )
    assert metadata.tags == ["alertname:Down", "service:api", "env:prod", "team:core", "zone:eu"]
    assert metadata.custom_fields["labels"] == labels
    assert metadata.custom_fields["receiver"] == "telegram"


def test_long_title_and_description_are_cut() -> None:
    payload = with_value(load(FIRING), "alerts.0.annotations.summary", "s" * 600)
    payload = with_value(payload, "alerts.0.annotations.description", "d" * 6000)

    incident = deliver("alertmanager", payload).incidents[0]

    assert len(incident.title) == 500 and incident.title.endswith("…")
    assert incident.title.startswith("High CPU Temperature: sss")
    assert incident.description == "d" * 4999 + "…"


def test_alert_without_alertname_or_annotations_is_titled_by_its_key() -> None:
    payload = with_value(load(FIRING), "alerts.0.labels", {"host": "a"})
    payload = with_value(payload, "alerts.0.annotations", {})

    assert deliver("alertmanager", payload).incidents[0].title == "Alert a1bc48475b20e73d"


def test_grafana_ref_is_org_and_fingerprint_with_per_alert_org_first() -> None:
    payload = load("grafana-firing-v12-test-notification.json")

    per_alert = with_value(with_value(payload, "alerts.0.orgId", 7), "orgId", 3)
    top_level = with_value(without(payload, "alerts.0.orgId"), "orgId", 3)
    neither = without(without(payload, "alerts.0.orgId"), "orgId")

    assert map_one("grafana", per_alert).source_ref == "7:c4edaaf9f9f839b0"
    assert map_one("grafana", top_level).source_ref == "3:c4edaaf9f9f839b0"
    assert map_one("grafana", neither).source_ref == "1:c4edaaf9f9f839b0"


def test_grafana_without_fingerprint_uses_the_label_hash() -> None:
    payload = without(load("grafana-firing.json"), "alerts.0.fingerprint")

    assert map_one("grafana", payload).source_ref.startswith("1:labels:")


def test_grafana_values_become_metric_evidence() -> None:
    evidence = map_one("grafana", load("grafana-firing-v12-test-notification.json")).evidence_lite

    assert [(item.name, item.value) for item in evidence.metrics] == [
        ("B", 22.0),
        ("C", 1.0),
        ("valueString", "[ var='B' value=22 ]"),
    ]
    assert {item.correlation_key for item in evidence.metrics} == {"1:c4edaaf9f9f839b0"}


def test_evidence_event_time_is_the_alert_transition() -> None:
    (firing,) = map_one("grafana", load("grafana-firing.json")).evidence_lite.events
    (resolved,) = map_one("grafana", load("grafana-resolved.json")).evidence_lite.events

    assert (firing.name, firing.timestamp) == (
        "firing",
        datetime(2022, 6, 17, 0, 41, 0, 782137, tzinfo=UTC),
    )
    assert (resolved.name, resolved.timestamp) == (
        "resolved",
        datetime(2022, 6, 17, 0, 51, 24, 67337, tzinfo=UTC),
    )


def test_repeated_alert_in_one_delivery_keeps_the_last() -> None:
    payload = load(FIRING)
    payload["alerts"].append(with_value(payload["alerts"][0], "status", "resolved"))

    incidents = deliver("alertmanager", payload).incidents

    assert [(incident.source_ref, incident.status) for incident in incidents] == [
        ("a1bc48475b20e73d", SourceStatus.RESOLVED),
        ("c2ea85182f28cbd9", SourceStatus.OPEN),
    ]
