"""Every vendor fixture mapped, with what each must produce; and no fixture left out."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingest.model import GenericIncident, GenericSeverity, SourceStatus, SourceType
from ingest.sources import SOURCE_TYPES
from tests.conftest import FIXTURES
from tests.ingest.payloads import (
    LATER,
    RECEIVED_AT,
    all_fixture_names,
    deliver,
    load,
    map_file,
    source_of,
)

CRITICAL, HIGH, MEDIUM = GenericSeverity.CRITICAL, GenericSeverity.HIGH, GenericSeverity.MEDIUM
OPEN, ACKNOWLEDGED, RESOLVED = SourceStatus.OPEN, SourceStatus.ACKNOWLEDGED, SourceStatus.RESOLVED
PLUS_ONE = timezone(timedelta(hours=1))
PLUS_TWO = timezone(timedelta(hours=2))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@dataclass(frozen=True)
class Expected:
    source_ref: str
    title: str
    severity: GenericSeverity | None
    original_severity: str | None
    status: SourceStatus
    start: datetime  # RECEIVED_AT when the payload carries no time
    resolved_at: datetime | None = None
    service: str | None = None
    team: str | None = None
    environment: str | None = None
    region: str | None = None
    links: tuple[str, ...] = ()
    incidents: int = 1


PD_V2 = {
    "title": "My new incident",
    "source_ref": "PRORDTY",
    "severity": HIGH,
    "original_severity": "urgency:high",
    "start": utc(2017, 9, 26, 15, 14, 36),
    "service": "Production XDB Cluster",
    "team": "Engineering",
    "links": (
        "https://webdemo.pagerduty.com/incidents/PRORDTY",
        "https://api.pagerduty.com/incidents/PRORDTY",
    ),
}
PD_V3_TEST_ACCOUNT = {
    "severity": HIGH,
    "original_severity": "urgency:high",
    "service": "pig208",
}
DATADOG = {
    "source_ref": "134462228:service:keep-api",
    "severity": HIGH,
    "original_severity": "P2",
    "service": "keep-api",
    "environment": "production",
}
NEW_RELIC_ISSUES = "https://radar-api.service.newrelic.com/accounts"
GRAFANA_TEST = {
    "source_ref": "1:d8a21484c9c25a60",
    "severity": None,
    "original_severity": None,
    "start": utc(2022, 6, 17, 0, 41, 0, 782137),
}
GRAFANA_TEST_LINKS = (
    "https://grafana.example.com/alerting/grafana/zTjxv_C7k/view",
    "https://grafana.example.com/alerting/silence/new?alertmanager=grafana"
    "&matcher=alertname%3DTest+alert&matcher=test%3Dtrue",
)
GCP_CANARY = {
    "title": "Test-incident-canary: VM Instance - Sent packets",
    "severity": HIGH,
    "original_severity": "Error",
}
ZABBIX = {
    "source_ref": "trigger-14032",
    "severity": MEDIUM,
    "original_severity": "Average",
    "start": RECEIVED_AT,
    "service": "www.example.com",
}

EXPECTED: dict[str, Expected] = {
    "pagerduty-v3-incident.triggered.json": Expected(
        source_ref="PFQZPSY",
        title="Test Incident 3",
        status=OPEN,
        start=utc(2021, 6, 4, 13, 35, 29, 781000),
        links=(
            "https://pig208.pagerduty.com/incidents/PFQZPSY",
            "https://api.pagerduty.com/incidents/PFQZPSY",
        ),
        **PD_V3_TEST_ACCOUNT,
    ),
    "pagerduty-v3-incident.acknowledged.json": Expected(
        source_ref="PQ1K5C8",
        title="Test Incident",
        status=ACKNOWLEDGED,
        start=utc(2021, 6, 4, 13, 55, 30, 394000),
        **PD_V3_TEST_ACCOUNT,
    ),
    "pagerduty-v3-incident.resolved.json": Expected(
        source_ref="PCPZE64",
        title="Test Incident",
        status=RESOLVED,
        start=utc(2021, 6, 4, 13, 16, 53, 816000),
        resolved_at=utc(2021, 6, 4, 13, 16, 53, 816000),
        **PD_V3_TEST_ACCOUNT,
    ),
    "pagerduty-v3-incident.priority_updated.json": Expected(
        source_ref="PGR0VU2",
        title="A little bump in the road",
        severity=CRITICAL,
        original_severity="P1",
        status=OPEN,
        start=utc(2020, 4, 9, 15, 16, 27),
        service="API Service",
        team="Engineering",
        links=(
            "https://acme.pagerduty.com/incidents/PGR0VU2",
            "https://api.pagerduty.com/incidents/PGR0VU2",
            "https://example.com",
        ),
    ),
    "pagerduty-v2-incident.trigger.json": Expected(status=OPEN, **PD_V2),
    "pagerduty-v2-incident.acknowledge.json": Expected(status=ACKNOWLEDGED, **PD_V2),
    "pagerduty-v2-incident.resolve.json": Expected(
        status=RESOLVED,
        resolved_at=utc(2017, 9, 26, 15, 18, 9),
        **PD_V2,
    ),
    "datadog-warn.json": Expected(
        title="Unauthorized access to API keep-api",
        status=OPEN,
        start=epoch_ms(1733930378000),
        links=(
            "https://app.datadoghq.com/event/event?id=7879713311244615328",
            "https://app.datadoghq.com/monitors/134462228?group=service%3Akeep-api"
            "&from_ts=1733929388000&to_ts=1733930588000&event_id=7879713311244615328"
            "&link_source=monitor_notif",
        ),
        **DATADOG,
    ),
    "datadog-recovered.json": Expected(
        title="Unauthorized access to API",
        status=RESOLVED,
        start=epoch_ms(1733930679000),
        resolved_at=epoch_ms(1733930679000),
        **DATADOG,
    ),
    "datadog-triggered.json": Expected(
        title="Unauthorized access to API keep-api",
        status=OPEN,
        start=epoch_ms(1733930738000),
        **DATADOG,
    ),
    "newrelic-created.json": Expected(
        source_ref="208c5e92-f250-40be-b7c2-50508c268c15",
        title="MAIN-APP-UBUNTU query result is > 2.0 for 1 minutes on 'High CPU'",
        severity=CRITICAL,
        original_severity="CRITICAL",
        status=OPEN,
        start=epoch_ms(1713767789495),
        service="MAIN-APP-UBUNTU",
        links=(f"{NEW_RELIC_ISSUES}/1/issues/0ea2df1c-adab-45d2-aae0-042b609d2322?notifier=SLACK",),
    ),
    "newrelic-activated.json": Expected(
        source_ref="c5faa7e6-7b54-402d-af79-f99601e0278c",
        title="zulip_app query result is > 1.0 for 1 minutes on 'Zulip Server Low Storage'",
        severity=CRITICAL,
        original_severity="CRITICAL",
        status=OPEN,
        start=epoch_ms(1713755131352),
        service="zulip_app",
    ),
    "newrelic-acknowledged.json": Expected(
        source_ref="13bbcdca-f0b6-470d-b0be-b34583c58869",
        title="HOST-UBUNTU query result is > 1.0 for 5 minutes on "
        "'Storage on Host Exceeded Threshold'",
        severity=HIGH,
        original_severity="HIGH",
        status=ACKNOWLEDGED,
        start=epoch_ms(1713769949493),
        service="HOST-UBUNTU",
    ),
    "newrelic-closed.json": Expected(
        source_ref="95a9344a-2590-48ce-8d83-07e28b6d22c6",
        title="main_app-UBUNTU query result is > 2.0 for 1 minutes on 'High CPU'",
        severity=CRITICAL,
        original_severity="CRITICAL",
        status=RESOLVED,
        start=epoch_ms(1713766590228),
        resolved_at=epoch_ms(1713766657383),
        service="main_app-UBUNTU",
    ),
    "alertmanager-firing.json": Expected(
        source_ref="a1bc48475b20e73d",
        title="High CPU Temperature: High CPU core temperature",
        severity=CRITICAL,
        original_severity="critical",
        status=OPEN,
        start=utc(2020, 2, 6, 0, 17, 58, 432911),
        links=(
            "http://cobalt:9090/graph?g0.expr=avg+by%28host%29+%28sensors_temp_input%7Bfeature"
            "%3D~%22core_%5B0-9%5D%2B%22%7D%29+%3E+15&g0.tab=1",
            "http://ops1:9093",
        ),
        incidents=2,
    ),
    "alertmanager-resolved.json": Expected(
        source_ref="fbab788ec4c1018b",
        title="Deployment: Kubernetes Deployment Replicas Mismatch",
        severity=MEDIUM,
        original_severity="Warning",
        status=RESOLVED,
        start=utc(2022, 7, 29, 11, 13, 27, 300000),
        resolved_at=utc(2022, 7, 29, 11, 17, 27, 300000),
        service="eric-pm-kube-state-metrics",
        links=(
            # The relative generatorURL, joined onto externalURL.
            "http://localhost:9093/metrics/viewer/graph?g0.expr=kube_deployment_spec_replicas"
            "%7Bnamespace%3D%22eric-eo-cm-ci406%22%7D+%21%3D+kube_deployment_status_replicas"
            "_available%7Bnamespace%3D%22eric-eo-cm-ci406%22%7D&g0.tab=1",
            "http://localhost:9093",
        ),
    ),
    "alertmanager-lifecycle-firing.json": Expected(
        source_ref="labels:7014c92e6425df8f32b28d1ab4b421de",
        title="Fire: Something is on fire",
        severity=CRITICAL,
        original_severity="critical",
        status=OPEN,
        start=datetime(2018, 11, 4, 22, 43, 58, 283995, tzinfo=PLUS_ONE),
        resolved_at=None,  # endsAt is in the future while firing: not a resolve time
    ),
    "alertmanager-lifecycle-resolved.json": Expected(
        source_ref="labels:7014c92e6425df8f32b28d1ab4b421de",
        title="Fire: Something is on fire",
        severity=CRITICAL,
        original_severity="critical",
        status=RESOLVED,
        start=datetime(2018, 11, 4, 22, 43, 58, 283995, tzinfo=PLUS_ONE),
        resolved_at=datetime(2018, 11, 4, 22, 48, 13, 283995, tzinfo=PLUS_ONE),
    ),
    "grafana-firing.json": Expected(
        title="Test alert: This is a summary field, failure on some_host",
        status=OPEN,
        links=(*GRAFANA_TEST_LINKS, "https://runbook.example.com/", "https://grafana.example.com/"),
        **GRAFANA_TEST,
    ),
    "grafana-resolved.json": Expected(
        title="Test alert: This is a summary field, failure on <no value>",
        status=RESOLVED,
        resolved_at=utc(2022, 6, 17, 0, 51, 24, 67337),
        **GRAFANA_TEST,
    ),
    "grafana-firing-docs-example.json": Expected(
        source_ref="1:c6eadffa33fcdf37",
        title="High memory usage: This alert was triggered for zone us-1",
        severity=None,
        original_severity=None,
        status=OPEN,
        start=datetime(2021, 10, 12, 9, 51, 3, 157076, tzinfo=PLUS_TWO),
        team="blue",
        region="us-1",
        incidents=2,
    ),
    "grafana-firing-v12-test-notification.json": Expected(
        source_ref="1:c4edaaf9f9f839b0",
        title="TestAlert: TEST",
        severity=None,
        original_severity=None,
        status=OPEN,
        start=utc(2026, 5, 5, 13, 4, 57, 622813),
        links=(
            "https://grafana.example.com/?orgId=1",  # "?orgId=1" joined onto externalURL
            "https://grafana.example.com/alerting/silence/new",
            "https://grafana.example.com/d/dashboard_uid",
            "https://grafana.example.com/d/dashboard_uid?viewPanel=1",
            "https://grafana.example.com/",
        ),
    ),
    "gcp-monitoring-open.json": Expected(
        source_ref="0.nrwotmyokd9n",
        status=OPEN,
        start=utc(2025, 5, 2, 9, 39, 54),
        service="gke-hub-cluster-private-pool-containe-de26c8a2-0se1",
        region="europe-west1-b",
        **GCP_CANARY,
    ),
    "gcp-monitoring-closed.json": Expected(
        source_ref="0.nrwo9fe1a4wg",
        status=RESOLVED,
        start=utc(2025, 5, 2, 9, 15, 19),
        resolved_at=utc(2025, 5, 2, 9, 39, 7),
        service="gke-hub-cluster-private-pool-containe-00531631-rf93",
        region="europe-west1-c",
        **GCP_CANARY,
    ),
    "gcp-monitoring-closed-docs-example.json": Expected(
        source_ref="0.opqiw61fsv7p",
        title="Monitor-Project-Cluster: VM Instance - CPU utilization [MAX]",
        severity=None,
        original_severity="no severity",
        status=RESOLVED,
        start=utc(2020, 1, 1, 1, 1, 1),
        resolved_at=utc(2020, 1, 1, 11, 11, 11),
        service="gke-cluster-1-default-pool-e2df4cbd-dgp3",
        region="us-central1-c",
        links=(
            "https://console.cloud.google.com/monitoring/alerting/incidents/0.lxfiw61fsv7p"
            "?project=internal-project",
            "https://myownpersonaldomain.com/playbook?name=${resource.name}",
        ),
    ),
    "zabbix-problem.json": Expected(
        title="Zabbix agent on www.example.com is unreachable for 5 minutes",
        status=OPEN,
        links=("https://zabbix.example.com/tr_events.php?triggerid=14032&eventid=10528",),
        **ZABBIX,
    ),
    "zabbix-ok.json": Expected(
        title="Zabbix agent on www.example.com is reachable",
        status=RESOLVED,
        links=("https://zabbix.example.com/tr_events.php?triggerid=14032&eventid=10529",),
        **ZABBIX,
    ),
}

# Zabbix's Zulip-style bodies carry no time: their start is when they were received.
NO_TIME_IN_PAYLOAD = {"zabbix-problem.json", "zabbix-ok.json"}


def test_every_fixture_file_has_expectations() -> None:
    assert set(EXPECTED) == all_fixture_names()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_maps_to_the_expected_incident(name: str) -> None:
    expected = EXPECTED[name]
    delivery = map_file(name)

    assert len(delivery.incidents) == expected.incidents
    incident = delivery.incidents[0]
    assert incident.source_type is SOURCE_TYPES[source_of(name)]
    assert incident.source_ref == expected.source_ref
    assert incident.title == expected.title
    assert (incident.severity, incident.original_severity) == (
        expected.severity,
        expected.original_severity,
    )
    assert incident.status is expected.status
    assert incident.timeline.start == expected.start
    assert incident.timeline.start.utcoffset() == expected.start.utcoffset()
    assert incident.timeline.resolved_at == expected.resolved_at
    _assert_metadata(incident, expected)
    if expected.links:
        assert [link.url for link in incident.links] == list(expected.links)


def _assert_metadata(incident: GenericIncident, expected: Expected) -> None:
    metadata = incident.metadata
    assert (metadata.service, metadata.team, metadata.environment, metadata.region) == (
        expected.service,
        expected.team,
        expected.environment,
        expected.region,
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_links_are_absolute_http(name: str) -> None:
    for incident in map_file(name).incidents:
        assert incident.links, "every fixture has at least one usable link"
        assert all(link.url.startswith(("http://", "https://")) for link in incident.links)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_has_one_evidence_event_keyed_by_source_ref(name: str) -> None:
    for incident in map_file(name).incidents:
        (event,) = incident.evidence_lite.events
        assert event.correlation_key == incident.source_ref
        assert event.name
        assert event.message and "\n" not in event.message


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_mapping_leaves_the_payload_as_it_was(name: str) -> None:
    payload = load(name)
    before = copy.deepcopy(payload)

    deliver(source_of(name), payload)

    assert payload == before


@pytest.mark.parametrize("name", sorted(EXPECTED.keys() - NO_TIME_IN_PAYLOAD))
def test_mapping_the_same_payload_twice_gives_the_same_result(name: str) -> None:
    first = map_file(name, received_at=RECEIVED_AT)
    again = map_file(name, received_at=LATER)

    assert again == first


@pytest.mark.parametrize("name", sorted(NO_TIME_IN_PAYLOAD))
def test_a_payload_without_time_differs_only_by_its_start(name: str) -> None:
    first = map_file(name, received_at=RECEIVED_AT).incidents[0]
    again = map_file(name, received_at=LATER).incidents[0]

    assert (first.timeline.start, again.timeline.start) == (RECEIVED_AT, LATER)
    assert again.model_copy(update={"timeline": first.timeline}) == first


# Sources with no record in the shared payloads: their fixtures are tests/fixtures/<source>.
OWN_FIXTURE_SOURCES = {"servicenow"}


def test_source_types_cover_every_source() -> None:
    assert set(SOURCE_TYPES.values()) <= set(SourceType)
    assert {source_of(name) for name in EXPECTED} | OWN_FIXTURE_SOURCES == set(SOURCE_TYPES)
    for source in OWN_FIXTURE_SOURCES:
        assert any((FIXTURES.parent / source).glob("*.json")), f"no fixtures for {source}"
