"""Triage's votes beyond the rules, on the real platform: the org's classifier learns from
people's verdicts (retrained by a workflow per verdict, stored as data) and then votes
with its reason; an LLM named in the settings votes too, never closes alone, and when it
fails triage goes on without it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from services.triage_learn import MIN_PER_CLASS
from tests.fakes.llm_server import FakeLlm
from tests.platform.harness import Platform, eventually, make_settings, running_platform
from tests.platform.session_helpers import new_org

LLM_KEY = "sk-platform-Vx93-unique"


@pytest.fixture
def fake_llm() -> Iterator[FakeLlm]:
    with FakeLlm() as fake:
        yield fake


@pytest.fixture
async def platform(
    tmp_path: Path, temporal_env: WorkflowEnvironment, fake_llm: FakeLlm
) -> AsyncIterator[Platform]:
    workflows = tmp_path / "definitions"
    workflows.mkdir()
    providers = {
        "triage-llm": {
            "type": "llm",
            "authentication": {
                "base_url": fake_llm.base_url,
                "model": "triage-mini",
                "api_key": LLM_KEY,
                "timeout_seconds": 5,
            },
        }
    }
    settings = make_settings(tmp_path, temporal_env, workflows, providers, triage=True)
    async with running_platform(settings, temporal_env) as running:
        yield running


async def _analysis(platform: Platform, org: str, incident_id: str) -> Any:
    response = await platform.http.get(
        f"/v1/incidents/{incident_id}/triage", headers=platform.auth(org)
    )
    body = response.json() if response.status_code == 200 else {}
    return body if body.get("status") not in (None, "analyzing") else None


async def _model(platform: Platform, org: str, verdicts: int) -> Any:
    response = await platform.http.get("/v1/settings/triage/model", headers=platform.auth(org))
    assert response.status_code == 200, response.text
    return response.json() if response.json()["verdicts"] == verdicts else None


async def _said(platform: Platform, org: str, title: str, verdict: str) -> None:
    incident = await platform.create_incident(org, title=title)
    await eventually(lambda: _analysis(platform, org, incident["id"]))
    response = await platform.http.post(
        f"/v1/incidents/{incident['id']}/triage/verdict",
        json={"verdict": verdict, "note": "from the on-call review"},
        headers=platform.auth(org),
    )
    assert response.status_code == 200, response.text


async def test_the_classifier_learns_from_verdicts_and_then_votes_with_its_reason(
    platform: Platform,
) -> None:
    org = new_org()
    fresh = await _model(platform, org, 0)
    assert fresh["votes"] is False
    for n in range(MIN_PER_CLASS):
        await _said(platform, org, f"nightly report batch {n} late", "false_positive")
        await _said(platform, org, f"card payments failing at checkout {n}", "true_positive")

    model = await eventually(lambda: _model(platform, org, 2 * MIN_PER_CLASS), timeout=60)
    assert model["votes"] is True
    probe = await platform.create_incident(org, title="nightly report batch late again")
    analysis = await eventually(lambda: _analysis(platform, org, probe["id"]))

    reasons = analysis["classification"]["reasons"]
    assert any(f"learned from {2 * MIN_PER_CLASS} verdict(s)" in r for r in reasons)
    assert analysis["classification"]["verdict"] == "false_positive"


async def test_before_enough_verdicts_the_classifier_abstains(platform: Platform) -> None:
    org = new_org()
    await _said(platform, org, "nightly report batch late", "false_positive")

    model = await eventually(lambda: _model(platform, org, 1), timeout=60)

    assert model["votes"] is False
    assert f"votes once it has {MIN_PER_CLASS} of each kind" in model["reason"]


async def _use_llm(platform: Platform, org: str, **settings: Any) -> None:
    response = await platform.http.put(
        "/v1/settings/triage",
        json={"llm_connection": "triage-llm", **settings},
        headers=platform.auth(org),
    )
    assert response.status_code == 200, response.text


async def test_the_llm_votes_but_never_closes_alone_and_sees_no_secret(
    platform: Platform, fake_llm: FakeLlm
) -> None:
    org = new_org()
    await _use_llm(platform, org, close_threshold=0.7)  # the LLM's vote counts at most 0.75
    fake_llm.answer_vote("false_positive", 0.95, "reads like a routine batch notice")

    incident = await platform.create_incident(
        org, title="Batch notice", description="ran with password=hunter2 as usual"
    )
    analysis = await eventually(lambda: _analysis(platform, org, incident["id"]))

    reasons = analysis["classification"]["reasons"]
    assert any("the LLM (triage-llm) says a false positive" in r for r in reasons)
    assert any("a vote never closes alone" in r for r in reasons)
    assert analysis["status"] == "needs_review"
    assert (await platform.incident(incident["id"], org))["status"] != "RESOLVED"
    [request] = fake_llm.requests
    assert "hunter2" not in request.text and LLM_KEY not in request.text
    assert request.headers["authorization"] == f"Bearer {LLM_KEY}"


async def test_when_the_llm_fails_triage_goes_on_and_says_so(
    platform: Platform, fake_llm: FakeLlm
) -> None:
    org = new_org()
    await _use_llm(platform, org)
    fake_llm.answer_status(500)

    incident = await platform.create_incident(org, title="Disk almost full on db-7")
    analysis = await eventually(lambda: _analysis(platform, org, incident["id"]))

    reasons = analysis["classification"]["reasons"]
    assert any("the LLM (triage-llm) gave no vote: answered 500" in r for r in reasons)
    assert analysis["classification"]["verdict"] == "uncertain"


async def test_a_bad_llm_connection_name_is_refused_and_nothing_changes(
    platform: Platform,
) -> None:
    org = new_org()
    response = await platform.http.put(
        "/v1/settings/triage",
        json={"llm_connection": "no spaces/allowed"},
        headers=platform.auth(org),
    )
    assert response.status_code == 422 and "llm_connection" in response.text
    current = await platform.http.get("/v1/settings/triage", headers=platform.auth(org))
    assert current.json()["llm_connection"] is None
