"""Triage on the real platform: each new incident is classified, false positives closed with
their reasons, runbooks ranked, and a session started by itself only inside the guardrails;
a person's verdict re-opens what triage closed wrongly."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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
      when: {text: "(?i)\\\\b(synthetic|canary)\\\\b"}
    - id: non-production
      verdict: false_positive
      confidence: 0.7
      when: {environment: "(?i)staging|dev"}
    - id: duplicate
      verdict: false_positive
      confidence: 0.95
      when: {duplicate_of_open: true}
"""
RUNBOOK = """
runbook:
  id: restart-checkout
  name: Restart checkout
  description: Restart the checkout service when it answers 5xx
  match: {keywords: [checkout, 5xx], services: [checkout]}
  steps:
    - {name: restart, run: "echo restarted >> @LOG@", connector: local}
  postchecks:
    - {name: answers, run: "grep -q restarted @LOG@", connector: local}
"""


@pytest.fixture
async def platform(tmp_path: Path, temporal_env: WorkflowEnvironment) -> AsyncIterator[Platform]:
    workflows = tmp_path / "definitions"
    workflows.mkdir()
    (workflows / "triage.yaml").write_text(textwrap.dedent(RULES).lstrip())
    log = tmp_path / "restarts.log"
    (workflows / "restart-checkout.yaml").write_text(
        textwrap.dedent(RUNBOOK).lstrip().replace("@LOG@", str(log))
    )
    settings = make_settings(tmp_path, temporal_env, workflows, {}, triage=True)
    async with running_platform(settings, temporal_env) as running:
        yield running


async def _triaged(platform: Platform, org: str, incident_id: str, *statuses: str) -> Any:
    response = await platform.http.get(
        f"/v1/incidents/{incident_id}/triage", headers=platform.auth(org)
    )
    if response.status_code != 200:
        return None
    triage = response.json()
    return triage if triage["status"] in statuses else None


async def _create(platform: Platform, org: str, **fields: Any) -> dict[str, Any]:
    return await platform.create_incident(org, **fields)


async def test_a_synthetic_alert_is_closed_with_its_reasons_and_a_person_can_reopen_it(
    platform: Platform,
) -> None:
    org = new_org()
    incident = await _create(platform, org, title="Synthetic probe: checkout canary failed")

    triage = await eventually(
        lambda: _triaged(platform, org, incident["id"], "closed_false_positive")
    )
    assert triage["classification"]["verdict"] == "false_positive"
    assert triage["classification"]["confidence"] >= 0.8
    assert any("synthetic" in reason for reason in triage["classification"]["reasons"])
    assert triage["analysis_id"] == f"{org}:{incident['id']}:triage:1"
    closed = await platform.incident(incident["id"], org)
    assert closed["status"] == "RESOLVED"
    [note] = [n for n in await platform.notifications(org) if "False positive" in n["title"]]
    assert "triage/verdict" in note["message"]

    reopened = await platform.http.post(
        f"/v1/incidents/{incident['id']}/triage/verdict",
        json={"verdict": "true_positive", "note": "customers see it"},
        headers=platform.auth(org),
    )
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["reopened"] is True
    again = await eventually(
        lambda: _triaged(platform, org, incident["id"], "awaiting_selection", "needs_review")
    )
    assert again["classification"]["verdict"] == "true_positive"
    assert "customers see it" in again["classification"]["reasons"][0]
    assert (await platform.incident(incident["id"], org))["status"] == "OPEN"


async def test_an_ingested_incident_names_its_analysis_and_an_update_starts_none(
    platform: Platform,
) -> None:
    org = new_org()
    alert = {
        "sourceType": "CUSTOM",
        "sourceRef": "disk-7",
        "title": "Disk almost full on db-7",
        "timeline": {"start": "2026-12-05T10:00:00Z"},
    }
    created = await platform.http.post(
        "/v1/incidents/ingest", json=alert, headers=platform.auth(org, "ANALYST")
    )
    assert created.status_code == 201, created.text
    incident_id = created.json()["incidentId"]
    assert created.json()["analysisId"] == f"{org}:{incident_id}:triage:1"

    triage = await eventually(lambda: _triaged(platform, org, incident_id, "needs_review"))
    assert triage["analysis_id"] == created.json()["analysisId"]
    assert triage["analysis_status"] == "analyzed"
    updated = await platform.http.post(
        "/v1/incidents/ingest",
        json={**alert, "title": "Disk full on db-7"},
        headers=platform.auth(org, "ANALYST"),
    )
    assert (updated.status_code, updated.json()["analysisId"]) == (200, None)


async def test_a_duplicate_is_closed_and_noted_on_the_incident_it_repeats(
    platform: Platform,
) -> None:
    org = new_org()
    original = await _create(
        platform, org, title="Orders queue backlog", initialCorrelationKey="q-7"
    )
    await eventually(lambda: _triaged(platform, org, original["id"], "needs_review"))
    repeat = await _create(platform, org, title="Orders queue backlog", initialCorrelationKey="q-7")

    triage = await eventually(
        lambda: _triaged(platform, org, repeat["id"], "closed_false_positive")
    )

    assert triage["classification"]["duplicate_of"] == [original["id"]]
    assert any(original["id"] in r for r in triage["classification"]["reasons"])
    timeline = await platform.http.get(
        f"/v1/incidents/{original['id']}/timeline", headers=platform.auth(org)
    )
    notes = [e for e in timeline.json()["events"] if e["type"] == "INCIDENT_NOTE_ADDED"]
    assert any(repeat["id"] in n["payload"]["text"] for n in notes), timeline.json()
    assert (await platform.incident(original["id"], org))["status"] == "OPEN"


async def test_one_weak_rule_asks_a_person_instead_of_closing(platform: Platform) -> None:
    org = new_org()
    incident = await _create(platform, org, title="Checkout latency", environment="staging")

    triage = await eventually(lambda: _triaged(platform, org, incident["id"], "needs_review"))

    assert triage["classification"]["verdict"] == "false_positive"
    assert any("below the close threshold" in r for r in triage["classification"]["reasons"])
    assert (await platform.incident(incident["id"], org))["status"] == "OPEN"


async def test_in_hil_mode_triage_ranks_runbooks_and_asks(platform: Platform) -> None:
    org = new_org()
    incident = await _create(
        platform, org, title="checkout down, 5xx", severity="SEV1", service="checkout"
    )

    triage = await eventually(lambda: _triaged(platform, org, incident["id"], "awaiting_selection"))

    best = triage["matches"][0]
    assert best["runbook_id"] == "restart-checkout"
    assert set(best["factors"]) == {"criteria", "text", "success", "recency"}
    assert "hil" in triage["decision"]["reason"]
    assert triage["decision"]["session_id"] is None
    [ask] = [n for n in await platform.notifications(org) if n["title"].startswith("Triage:")]
    assert any(link["text"] == "Execute restart-checkout" for link in ask["links"])
    sessions = await platform.http.get("/v1/sessions", headers=platform.auth(org))
    assert sessions.json() == []


async def _auto(platform: Platform, org: str, threshold: float = 0.5) -> None:
    response = await platform.http.put(
        "/v1/settings/execution-mode",
        json={"mode": "auto", "auto_threshold": threshold},
        headers=platform.auth(org),
    )
    assert response.status_code == 200, response.text


async def test_in_auto_mode_a_confident_match_starts_a_session_by_itself(
    platform: Platform, tmp_path: Path
) -> None:
    org = new_org()
    await _auto(platform, org)
    incident = await _create(
        platform, org, title="checkout down, 5xx", severity="SEV1", service="checkout"
    )

    triage = await eventually(
        lambda: _triaged(platform, org, incident["id"], "in_progress", "resolved")
    )
    session_id = triage["decision"]["session_id"]
    assert session_id.startswith(f"{org}:{incident['id']}:runbook:restart-checkout:")
    session = await platform.http.get(f"/v1/sessions/{session_id}", headers=platform.auth(org))
    assert session.json()["requester"] == "fireline:triage"
    done = await eventually(lambda: _triaged(platform, org, incident["id"], "resolved"), timeout=60)
    assert done["outcome"]["session_id"] == session_id
    assert (tmp_path / "restarts.log").read_text() == "restarted\n"
    result = await platform.client.get_workflow_handle(triage["analysis_id"]).result()
    assert result["status"] == "resolved"
    verified = await _triaged(platform, org, incident["id"], "resolved")
    assert "ended completed with outcome resolved" in verified["verification"]["reason"]
    assert "the incident is RESOLVED" in verified["verification"]["reason"]


async def test_a_paused_org_starts_nothing_and_says_why(platform: Platform) -> None:
    org = new_org()
    await _auto(platform, org)
    paused = await platform.http.put(
        "/v1/settings/triage", json={"paused": True}, headers=platform.auth(org)
    )
    assert paused.status_code == 200, paused.text
    incident = await _create(
        platform, org, title="checkout down, 5xx", severity="SEV1", service="checkout"
    )

    triage = await eventually(lambda: _triaged(platform, org, incident["id"], "awaiting_selection"))

    assert "paused" in triage["decision"]["reason"]
    sessions = await platform.http.get("/v1/sessions", headers=platform.auth(org))
    assert sessions.json() == []


async def test_a_severity_that_is_never_automatic_is_held_back(platform: Platform) -> None:
    org = new_org()
    await _auto(platform, org)
    await platform.http.put(
        "/v1/settings/triage",
        json={"severity_thresholds": {"SEV1": None}},
        headers=platform.auth(org),
    )
    incident = await _create(
        platform, org, title="checkout down, 5xx", severity="SEV1", service="checkout"
    )

    triage = await eventually(lambda: _triaged(platform, org, incident["id"], "awaiting_selection"))

    assert triage["decision"]["reason"] == "SEV1 incidents never start a session by themselves"


async def test_bad_triage_settings_and_verdicts_are_refused_and_change_nothing(
    platform: Platform,
) -> None:
    org = new_org()
    bad = await platform.http.put(
        "/v1/settings/triage",
        json={"close_threshold": 0.2, "severity_thresholds": {"SEV9": 0.5}},
        headers=platform.auth(org),
    )
    settings = await platform.http.get("/v1/settings/triage", headers=platform.auth(org))
    incident = await _create(platform, org, title="checkout down, 5xx")
    verdict = await platform.http.post(
        f"/v1/incidents/{incident['id']}/triage/verdict",
        json={"verdict": "maybe"},
        headers=platform.auth(org),
    )
    other_org = await platform.http.get(
        f"/v1/incidents/{incident['id']}/triage", headers=platform.auth(new_org())
    )

    assert bad.status_code == 422
    assert "close_threshold" in bad.text
    assert settings.json()["close_threshold"] == 0.8
    assert settings.json()["paused"] is False
    assert verdict.status_code == 422
    assert "verdict" in verdict.text
    assert other_org.status_code == 404
