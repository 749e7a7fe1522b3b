"""Preview: what a session would run for an incident, rendered with its values and
shell-quoted, which steps would wait for approval and why, and the rollbacks — while
nothing runs, nothing is recorded and no workflow starts."""

from __future__ import annotations

from pathlib import Path

from tests.platform.harness import Platform
from tests.platform.session_helpers import add_runbook, new_org, set_execution_mode

GATED = """
runbook:
  id: gated-restart
  name: Restart with a gate
  match: {severities: [SEV2]}
  inputs:
    - {name: out, type: string, required: true}
  prechecks:
    - {name: look, run: "echo looking at {{ incident.service }}", connector: local}
  steps:
    - name: restart
      run: "touch {{ inputs.out }}/restarted"
      connector: local
      requires_approval: true
      rollback: {run: "rm -f {{ inputs.out }}/restarted"}
    - name: note
      run: "echo {{ incident.title }} > {{ inputs.out }}/noted"
      connector: local
  postchecks:
    - {name: check, run: "echo {{ steps.look.stdout }}", connector: local}
"""


async def _preview(platform: Platform, org: str, incident_id: str, out: Path) -> dict:  # type: ignore[type-arg]
    response = await platform.http.post(
        f"/v1/incidents/{incident_id}/runbooks/gated-restart/preview",
        json={"inputs": {"out": str(out)}},
        headers=platform.auth(org, "VIEWER"),
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_preview_renders_every_call_quoted_and_runs_nothing(
    platform: Platform, tmp_path: Path
) -> None:
    org = new_org()
    await add_runbook(platform, "gated-restart", GATED)
    out = tmp_path / "out"
    out.mkdir()
    title = f"$(touch {out}/pwned) it's down"
    created = await platform.create_incident(
        org, title=title, service="checkout; rm -rf /", severity="SEV2"
    )

    preview = await _preview(platform, org, created["id"], out)

    steps = {s["name"]: s for s in preview["steps"]}
    assert steps["look"]["call"]["command"] == "echo looking at 'checkout; rm -rf /'"
    assert steps["note"]["call"]["command"] == (
        f"echo '$(touch {out}/pwned) it'\"'\"'s down' > {out}/noted"
    )
    assert steps["restart"]["asks_approval"] is True
    assert "requires_approval" in steps["restart"]["approval_reason"]
    assert steps["restart"]["rollback"]["command"] == f"rm -f {out}/restarted"
    assert "earlier step" in steps["check"]["call"]["note"]
    assert preview["rollback_order"] == ["restart"]
    assert preview["target"]["rule"]
    assert list(out.iterdir()) == []  # nothing ran
    sessions = await platform.http.get(
        "/v1/sessions", params={"incident_id": created["id"]}, headers=platform.auth(org)
    )
    assert sessions.status_code == 200
    assert sessions.json() == []


async def test_the_preview_follows_the_org_mode(platform: Platform, tmp_path: Path) -> None:
    org = new_org()
    await add_runbook(platform, "gated-restart", GATED)
    created = await platform.create_incident(org, title="checkout down", severity="SEV2")

    hil = await _preview(platform, org, created["id"], tmp_path)
    await set_execution_mode(platform, org, "auto", 0.5)
    auto = await _preview(platform, org, created["id"], tmp_path)

    hil_note = next(s for s in hil["steps"] if s["name"] == "note")
    auto_note = next(s for s in auto["steps"] if s["name"] == "note")
    assert (hil_note["asks_approval"], auto_note["asks_approval"]) == (True, False)
    assert "hil" in hil_note["approval_reason"]


async def test_a_bad_preview_request_is_refused_with_the_reason(platform: Platform) -> None:
    org = new_org()
    await add_runbook(platform, "gated-restart", GATED)
    created = await platform.create_incident(org, title="checkout down", severity="SEV2")
    url = f"/v1/incidents/{created['id']}/runbooks/gated-restart/preview"

    missing = await platform.http.post(url, json={}, headers=platform.auth(org))
    unknown = await platform.http.post(
        f"/v1/incidents/{created['id']}/runbooks/nope/preview", json={}, headers=platform.auth(org)
    )
    other_org = await platform.http.post(
        url, json={"inputs": {"out": "/tmp"}}, headers=platform.auth(new_org())
    )

    assert missing.status_code == 422 and "out" in missing.text
    assert unknown.status_code == 404 and "nope" in unknown.text
    assert other_org.status_code == 404
