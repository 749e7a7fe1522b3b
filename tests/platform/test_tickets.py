"""The tickets view on the real platform: incidents with their triage classification, best
runbook and session; one ticket with the servers it names and where each resolves; and
CI extraction from ticket fields."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.platform.harness import Platform, eventually, make_settings, running_platform
from tests.platform.session_helpers import new_org

RULES = """
triage:
  rules:
    - id: synthetic
      verdict: false_positive
      confidence: 0.9
      when: {text: "(?i)\\\\bcanary\\\\b"}
"""
RUNBOOK = """
runbook:
  id: restart-checkout
  name: Restart checkout
  match: {keywords: [checkout], services: [checkout]}
  steps:
    - {name: restart, run: "true", connector: local}
"""


@pytest.fixture
async def platform(tmp_path: Path, temporal_env: WorkflowEnvironment) -> AsyncIterator[Platform]:
    workflows = tmp_path / "definitions"
    workflows.mkdir()
    (workflows / "triage.yaml").write_text(textwrap.dedent(RULES).lstrip())
    (workflows / "restart-checkout.yaml").write_text(textwrap.dedent(RUNBOOK).lstrip())
    settings = make_settings(tmp_path, temporal_env, workflows, {}, triage=True)
    async with running_platform(settings, temporal_env) as running:
        yield running


async def _tickets(platform: Platform, org: str, **params: Any) -> Any:
    response = await platform.http.get("/v1/tickets", params=params, headers=platform.auth(org))
    assert response.status_code == 200, response.text
    return response.json()


async def _triaged(platform: Platform, org: str, count: int) -> Any:
    page = await _tickets(platform, org)
    done = [t for t in page["items"] if t["triage_status"] not in (None, "analyzing")]
    return page if len(done) == count else None


async def _add_ssh_connection(platform: Platform, org: str, name: str, host: str) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    response = await platform.http.post(
        "/v1/connections",
        json={
            "name": name,
            "kind": "ssh",
            "host": host,
            "username": "deploy",
            "hostKey": " ".join(key.split()[:2]),
            "credential": {"kind": "password", "secret": "not-used-here"},
        },
        headers=platform.auth(org),
    )
    assert response.status_code == 201, response.text


async def test_tickets_show_classification_best_runbook_and_filter_on_them(
    platform: Platform,
) -> None:
    org = new_org()
    canary = await platform.create_incident(org, title="canary probe failed")
    real = await platform.create_incident(
        org, title="checkout answers 5xx", service="checkout", severity="SEV2"
    )
    page = await eventually(lambda: _triaged(platform, org, 2))

    tickets = {t["id"]: t for t in page["items"]}
    assert tickets[canary["id"]]["classification"] == "false_positive"
    assert tickets[canary["id"]]["triage_status"] == "closed_false_positive"
    assert tickets[canary["id"]]["status"] == "RESOLVED"
    assert tickets[real["id"]]["classification"] == "uncertain"
    assert tickets[real["id"]]["top_match"]["runbook_id"] == "restart-checkout"
    assert tickets[real["id"]]["triage_status"] == "awaiting_selection"

    false_positives = await _tickets(platform, org, classification="false_positive")
    assert [t["id"] for t in false_positives["items"]] == [canary["id"]]
    searched = await _tickets(platform, org, q="5XX")
    assert [t["id"] for t in searched["items"]] == [real["id"]]
    first = await _tickets(platform, org, limit=1, sort="created_at")
    second = await _tickets(platform, org, limit=1, sort="created_at", cursor=first["next_cursor"])
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [canary["id"], real["id"]]
    assert second["next_cursor"] is None
    assert (await _tickets(platform, new_org()))["items"] == []


async def test_a_bad_ticket_filter_is_refused_naming_it(platform: Platform) -> None:
    org = new_org()
    for params in ({"classification": "maybe"}, {"source": "NOPE"}, {"limit": 0}):
        response = await platform.http.get("/v1/tickets", params=params, headers=platform.auth(org))
        assert response.status_code == 422, params
        assert next(iter(params)) in response.text


async def test_one_ticket_names_its_servers_matches_and_sessions(platform: Platform) -> None:
    org = new_org()
    await _add_ssh_connection(platform, org, "web-1", "web-01.prod.example.com")
    created = await platform.create_incident(
        org,
        title="checkout answers 5xx",
        service="checkout",
        description="web-01.prod.example.com and db-7 log timeouts",
    )
    await eventually(lambda: _triaged(platform, org, 1))

    response = await platform.http.get(
        f"/v1/tickets/{created['id']}", headers=platform.auth(org, "VIEWER")
    )

    assert response.status_code == 200, response.text
    detail = response.json()
    names = {n["name"]: n for n in detail["ci"]}
    assert names["web-01.prod.example.com"]["connection"] == "web-1"
    assert "host of connection 'web-1'" in names["web-01.prod.example.com"]["rule"]
    assert names["db-7"]["connection"] is None
    assert detail["target"]["connection"] == "web-1"
    assert detail["matches"][0]["runbook_id"] == "restart-checkout"
    assert set(detail["matches"][0]["factors"]) == {"criteria", "text", "success", "recency"}
    assert detail["executions"] == []
    other = await platform.http.get(
        f"/v1/tickets/{created['id']}", headers=platform.auth(new_org())
    )
    assert other.status_code == 404


async def test_extract_ci_resolves_each_name_and_refuses_bad_fields(platform: Platform) -> None:
    org = new_org()
    await _add_ssh_connection(platform, org, "db-primary", "10.0.3.7")

    response = await platform.http.post(
        "/v1/infrastructure/extract-ci",
        json={
            "description": "replication lag on 10.0.3.7, see /var/log/pg.log",
            "service": "payments",
            "meta_data": {"ci_association": "cmdb-payments-01"},
        },
        headers=platform.auth(org, "VIEWER"),
    )

    assert response.status_code == 200, response.text
    found = [(n["name"], n["found_in"], n["connection"]) for n in response.json()["names"]]
    assert found == [
        ("cmdb-payments-01", "ci_association (meta_data)", None),
        ("payments", "service", None),
        ("10.0.3.7", "description", "db-primary"),
    ]
    assert response.json()["target"]["connection"] == "db-primary"
    bad = await platform.http.post(
        "/v1/infrastructure/extract-ci",
        json={"description": "x", "ticket": 1},
        headers=platform.auth(org),
    )
    assert bad.status_code == 422 and "ticket" in bad.text
