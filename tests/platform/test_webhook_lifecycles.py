"""Every vendor fixture through its org's webhook URL, on the whole platform.

Each lifecycle (trigger → acknowledge → resolve) must end in exactly one incident in the
right state; every delivery is sent twice and the repeat changes nothing; the workflows
start exactly once per real change.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from store import incidents
from store.models import IncidentEventModel, IngestPayloadModel
from store.outbox import trigger_events_for
from tests.platform.harness import Platform, make_settings, running_platform, write_workflow
from tests.platform.ingest_helpers import (
    COUNT_TRIGGERS,
    all_fixture_names,
    configure,
    deliver,
    fixture,
    fixture_bytes,
    pagerduty_signature,
    runs_by_event,
)
from tests.store.helpers import count_rows

SECRET = "whsec-lifecycle-0123456789"


@pytest.fixture
async def platform(tmp_path: Path, temporal_env: WorkflowEnvironment) -> AsyncIterator[Platform]:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    write_workflow(workflows, "count-triggers", COUNT_TRIGGERS)
    settings = make_settings(tmp_path, temporal_env, workflows, {})
    async with running_platform(settings, temporal_env) as running:
        yield running


def _same_id(path: tuple[str, ...], value: str) -> Callable[[Any], Any]:
    def rewrite(payload: Any) -> Any:
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return payload

    return rewrite


@dataclass
class Lifecycle:
    source: str
    files: list[str]
    final_status: str
    rewrite: Callable[[Any], Any] | None = None
    auth: dict[str, Any] = field(default_factory=lambda: {"auth": "none"})
    headers: Callable[[bytes], dict[str, str]] = lambda _body: {}
    query: str = ""


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


LIFECYCLES = [
    Lifecycle(
        "pagerduty",
        [
            "pagerduty-v3-incident.triggered.json",
            "pagerduty-v3-incident.acknowledged.json",
            "pagerduty-v3-incident.resolved.json",
        ],
        "RESOLVED",
        rewrite=_same_id(("event", "data", "id"), "PFIRELINE1"),
        auth={"auth": "hmac", "secret": SECRET},
        headers=lambda body: {"X-PagerDuty-Signature": pagerduty_signature(SECRET, body)},
    ),
    Lifecycle(
        "pagerduty",
        [
            "pagerduty-v2-incident.trigger.json",
            "pagerduty-v2-incident.acknowledge.json",
            "pagerduty-v2-incident.resolve.json",
        ],
        "RESOLVED",
    ),
    Lifecycle(
        "datadog",
        ["datadog-warn.json", "datadog-recovered.json", "datadog-triggered.json"],
        "OPEN",  # warn, then recovered, then triggered again: reopened
        auth={"auth": "header", "secret": SECRET, "headerName": "X-Fireline-Token"},
        headers=lambda _body: {"X-Fireline-Token": SECRET},
    ),
    Lifecycle(
        "newrelic",
        [
            "newrelic-created.json",
            "newrelic-activated.json",
            "newrelic-acknowledged.json",
            "newrelic-closed.json",
        ],
        "RESOLVED",
        rewrite=_same_id(("id",), "9b1e0b6c-0000-4000-8000-fireline0001"),
        auth={"auth": "bearer", "secret": SECRET},
        headers=lambda _body: {"Authorization": f"Token {SECRET}"},
    ),
    Lifecycle(
        "alertmanager",
        ["alertmanager-lifecycle-firing.json", "alertmanager-lifecycle-resolved.json"],
        "RESOLVED",
        auth={"auth": "bearer", "secret": SECRET},
        headers=lambda _body: {"Authorization": f"Bearer {SECRET}"},
    ),
    Lifecycle(
        "grafana",
        ["grafana-firing.json", "grafana-resolved.json"],
        "RESOLVED",
        auth={"auth": "basic", "username": "grafana", "secret": SECRET},
        headers=lambda _body: _basic("grafana", SECRET),
    ),
    Lifecycle(
        "gcp",
        ["gcp-monitoring-open.json", "gcp-monitoring-closed.json"],
        "RESOLVED",
        rewrite=_same_id(("incident", "incident_id"), "0.fireline-lifecycle"),
        auth={"auth": "query", "secret": SECRET},
        query=f"?token={SECRET}",
    ),
    Lifecycle(
        "zabbix",
        ["zabbix-problem.json", "zabbix-ok.json"],
        "RESOLVED",
        auth={"auth": "bearer", "secret": SECRET},
        headers=lambda _body: {"Authorization": f"Bearer {SECRET}"},
    ),
]


def _body(lifecycle: Lifecycle, name: str) -> bytes:
    if lifecycle.rewrite is None:
        return fixture_bytes(name)
    return json.dumps(lifecycle.rewrite(fixture(name))).encode()


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.files[0].split(".")[0])
async def test_a_lifecycle_ends_in_one_incident_and_starts_each_change_once(
    platform: Platform, lifecycle: Lifecycle
) -> None:
    url = await configure(platform, lifecycle.source, **lifecycle.auth) + lifecycle.query
    incident_ids = set()
    for name in lifecycle.files:
        body = _body(lifecycle, name)
        first = await deliver(platform.http, url, body, lifecycle.headers(body))
        assert first.status_code in (200, 201), f"{name}: {first.text}"
        repeat = await deliver(platform.http, url, body, lifecycle.headers(body))
        repeated = repeat.json()
        if repeated["duplicate"]:  # a retried delivery id gets the first answer again
            assert (repeat.status_code, repeated["incidents"]) == (
                first.status_code,
                first.json()["incidents"],
            )
        else:
            assert repeat.status_code == 200, f"{name}: {repeat.text}"
            statuses = {item["status"] for item in repeated["incidents"]}
            assert statuses == {"unchanged"}, f"{name}: the repeat changed something"
        incident_ids |= {item["incidentId"] for item in first.json()["incidents"]}

    assert len(incident_ids) == 1, f"one incident expected, got {incident_ids}"
    (incident_id,) = incident_ids
    incident = await platform.incident(incident_id)
    assert incident["status"] == lifecycle.final_status
    triggers = await _triggers_by_event(platform, incident_id)
    fired = [trigger for per_event in triggers.values() for trigger in per_event]
    assert fired.count("created") == 1
    assert fired.count("resolved") == 1
    # One run per event that can trigger workflows (none for the repeats).
    assert await runs_by_event(platform.db, "acme", incident_id) == Counter(triggers.keys())


async def _triggers_by_event(platform: Platform, incident_id: str) -> dict[int, list[str]]:
    async with platform.db.read_session() as session:
        events = await incidents.list_events(session, "acme", incident_id)
    return {event.seq: trigger_events_for(event) for event in events if trigger_events_for(event)}


def test_every_fixture_is_in_a_lifecycle_or_a_single_delivery_test() -> None:
    covered = {name for lifecycle in LIFECYCLES for name in lifecycle.files} | set(SINGLES)
    assert covered == all_fixture_names()


SINGLES = {
    "alertmanager-firing.json": ("alertmanager", 2),
    "alertmanager-resolved.json": ("alertmanager", 1),
    "gcp-monitoring-closed-docs-example.json": ("gcp", 1),
    "grafana-firing-docs-example.json": ("grafana", 2),
    "grafana-firing-v12-test-notification.json": ("grafana", 1),
    "pagerduty-v3-incident.priority_updated.json": ("pagerduty", 1),
}


@pytest.mark.parametrize("name", sorted(SINGLES))
async def test_a_single_delivery_creates_its_incidents(platform: Platform, name: str) -> None:
    source, expected = SINGLES[name]
    response = await platform.http.post(
        f"/v1/webhooks/{source}", content=fixture_bytes(name), headers=_json(platform)
    )
    assert response.status_code == 201, response.text
    items = response.json()["incidents"]
    assert [item["status"] for item in items] == ["created"] * expected
    assert len({item["incidentId"] for item in items}) == expected
    for item in items:
        incident = await platform.incident(item["incidentId"])
        assert incident["source_type"] and incident["source_ref"] == item["sourceRef"]


def _json(platform: Platform) -> dict[str, str]:
    return {**platform.auth("acme", "ANALYST"), "Content-Type": "application/json"}


async def test_a_bad_signature_is_401_and_stores_nothing(platform: Platform) -> None:
    url = await configure(platform, "pagerduty", auth="hmac", secret=SECRET)
    body = fixture_bytes("pagerduty-v3-incident.triggered.json")
    wrong = pagerduty_signature("another-secret-entirely", body)
    for headers in ({"X-PagerDuty-Signature": wrong}, {}):
        response = await deliver(platform.http, url, body, headers)
        assert response.status_code == 401, response.text
        assert "X-PagerDuty-Signature" in response.json()["detail"]
    async with platform.db.read_session() as session:
        assert await count_rows(session, IncidentEventModel) == 0
        assert await count_rows(session, IngestPayloadModel) == 0


async def test_a_delivery_belongs_to_the_org_whose_url_it_used(platform: Platform) -> None:
    acme_url = await configure(platform, "zabbix", org="acme", auth="none")
    globex_url = await configure(platform, "zabbix", org="globex", auth="none")
    assert acme_url != globex_url
    response = await deliver(platform.http, globex_url, fixture_bytes("zabbix-problem.json"))
    assert response.status_code == 201, response.text
    incident_id = response.json()["incidents"][0]["incidentId"]
    mine = await platform.http.get(f"/v1/incidents/{incident_id}", headers=platform.auth("globex"))
    theirs = await platform.http.get(f"/v1/incidents/{incident_id}", headers=platform.auth("acme"))
    assert mine.status_code == 200
    assert theirs.status_code == 404


async def test_a_rotated_url_stops_the_old_one(platform: Platform) -> None:
    old = await configure(platform, "zabbix", auth="none")
    new = await configure(platform, "zabbix", auth="none", rotateUrl=True)
    assert old != new
    body = fixture_bytes("zabbix-problem.json")
    assert (await deliver(platform.http, old, body)).status_code == 404
    assert (await deliver(platform.http, new, body)).status_code == 201


async def test_an_unknown_source_lists_the_known_ones(platform: Platform) -> None:
    response = await platform.http.post(
        "/v1/webhooks/opsgenie", content=b"{}", headers=_json(platform)
    )
    assert response.status_code == 404
    detail = response.json()["detail"]
    for known in ("pagerduty", "datadog", "newrelic", "alertmanager", "grafana", "gcp", "zabbix"):
        assert known in detail


async def test_a_payload_of_the_wrong_shape_is_422_naming_the_fields(platform: Platform) -> None:
    response = await platform.http.post(
        "/v1/webhooks/alertmanager",
        content=fixture_bytes("newrelic-created.json"),
        headers=_json(platform),
    )
    assert response.status_code == 422, response.text
    assert "alerts" in response.json()["detail"]
    async with platform.db.read_session() as session:
        assert await count_rows(session, IncidentEventModel) == 0


async def test_the_secret_is_never_returned(platform: Platform) -> None:
    await configure(platform, "grafana", auth="basic", username="g", secret=SECRET)
    response = await platform.http.get("/v1/webhooks/grafana/config", headers=platform.auth())
    assert SECRET not in response.text
    assert response.json()["hasSecret"] is True
