"""From an incident's ranked runbooks: a preview that runs nothing, then Execute, which
starts the session (requested by the person) and opens its page."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.console.conftest import add_user, signed_in
from tests.platform.harness import Platform, eventually
from tests.platform.session_helpers import add_runbook

ECHO = """
runbook:
  id: echo-title
  name: Echo the title
  match: {keywords: [echo]}
  steps:
    - {name: say, run: "echo {{ incident.title }} > @OUT@/said", connector: local}
"""


async def _matched(console: Platform, incident_id: str) -> bool:
    triage = await console.http.get(
        f"/v1/incidents/{incident_id}/triage", headers=console.auth("acme")
    )
    return triage.status_code == 200 and bool(triage.json().get("matches"))


async def test_preview_runs_nothing_and_execute_starts_the_session(
    browser: Browser, console: Platform, tmp_path: Path
) -> None:
    await add_runbook(console, "echo-title", ECHO, OUT=str(tmp_path))
    incident = await console.create_incident("acme", title="echo this; rm -rf /", severity="SEV3")
    await eventually(lambda: _matched(console, incident["id"]))
    page = await signed_in(browser, console, await add_user(console, "r@acme.test", "SRE_LEAD"))

    await page.goto(f"/incidents/{incident['id']}")
    await page.get_by_role("link", name="Preview echo-title").click()
    step = page.locator("tr[data-step='say']")
    await expect(step).to_contain_text(f"echo 'echo this; rm -rf /' > {tmp_path}/said")
    await expect(page.get_by_text("Nothing has run.")).to_be_visible()
    assert not (tmp_path / "said").exists()

    await page.get_by_role("button", name="Execute").click()
    # The org is in hil mode: the session asks before its step, and the page says so.
    await expect(page.locator(".session-status")).to_have_text("waiting approval", timeout=20_000)
    assert page.url.endswith(f"/sessions/acme:{incident['id']}:runbook:echo-title:1")
    assert not (tmp_path / "said").exists()


GREET = """
runbook:
  id: greet
  name: Greet a number of times
  inputs:
    - {name: greeting, type: string, required: true, description: What to say}
    - {name: times, type: number, default: 1}
  steps:
    - name: say
      run: "echo {{ inputs.greeting }} {{ inputs.times }} > @OUT@/greeted"
      connector: local
"""


async def test_inputs_are_filled_in_previewed_and_passed_to_the_session(
    browser: Browser, console: Platform, tmp_path: Path
) -> None:
    await add_runbook(console, "greet", GREET, OUT=str(tmp_path))
    incident = await console.create_incident("acme", title="Say hello")
    page = await signed_in(browser, console, await add_user(console, "g@acme.test", "SRE_LEAD"))
    preview = f"/incidents/{incident['id']}/runbooks/greet/preview"

    await page.goto(preview)
    await expect(page.get_by_role("alert")).to_contain_text("greeting")  # required, missing
    await page.get_by_label("greeting").fill("hi $(touch pwned)")
    await page.get_by_label("times").fill("two")
    await page.get_by_role("button", name="Preview with these inputs").click()
    await expect(page.get_by_role("alert")).to_have_text("input times: 'two' is not a number")
    await expect(page.get_by_label("greeting")).to_have_value("hi $(touch pwned)")  # kept

    await page.get_by_label("times").fill("3")
    await page.get_by_role("button", name="Preview with these inputs").click()
    step = page.locator("tr[data-step='say']")
    await expect(step).to_contain_text(f"echo 'hi $(touch pwned)' 3 > {tmp_path}/greeted")
    await page.get_by_role("button", name="Execute").click()

    await expect(page.locator(".session-status")).to_have_text("waiting approval", timeout=20_000)
    pending = await console.http.get("/v1/approvals", headers=console.auth("acme"))
    [item] = [i for i in pending.json()["items"] if i["runbook_id"] == "greet"]
    assert item["command"] == f"echo 'hi $(touch pwned)' 3 > {tmp_path}/greeted"


async def test_the_same_execute_form_sent_twice_starts_one_session(
    browser: Browser, console: Platform, tmp_path: Path
) -> None:
    await add_runbook(console, "echo-title", ECHO, OUT=str(tmp_path))
    incident = await console.create_incident("acme", title="echo twice", severity="SEV3")
    page = await signed_in(browser, console, await add_user(console, "d@acme.test", "SRE_LEAD"))
    await page.goto(f"/incidents/{incident['id']}/runbooks/echo-title/preview")
    form = page.locator("form[action$='/execute']")
    fields = {
        name: await form.locator(f"input[name='{name}']").get_attribute("value") or ""
        for name in ("csrf_token", "start_key")
    }
    action = f"/incidents/{incident['id']}/runbooks/echo-title/execute"

    first = await page.request.post(action, form=fields)
    again = await page.request.post(action, form=fields)

    session = f"/sessions/acme:{incident['id']}:runbook:echo-title:1"
    assert first.url.endswith(session) and again.url.endswith(session)
    listed = await console.http.get(
        "/v1/sessions", params={"incident_id": incident["id"]}, headers=console.auth("acme")
    )
    assert [s["number"] for s in listed.json()] == [1]
    # A form without its key (or with a forged one) still starts a session of its own.
    forged = await page.request.post(action, form={**fields, "start_key": "not-a-key"})
    assert forged.url.endswith(f"/sessions/acme:{incident['id']}:runbook:echo-title:2")
