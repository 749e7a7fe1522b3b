"""The approvals dashboard in a real browser: a second person sees the command, where it
runs, the match confidence and the time left, approves the step a session waits for, the
badge counts what waits for them, and the session goes on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, expect

from api.auth import issue_token
from tests.console.conftest import add_user, screenshots, signed_in
from tests.platform.harness import Platform, eventually
from tests.platform.session_helpers import add_runbook, started, wait_for_status

GATED = """
runbook:
  id: gated-touch
  name: Touch a file once approved
  approval: {roles: [SRE_LEAD], timeout: 1h}
  inputs:
    - {name: out, type: string, required: true}
  steps:
    - name: touch
      run: "touch {{ inputs.out }}/approved"
      connector: local
      requires_approval: true
"""


def _token(console: Platform, sub: str) -> str:
    secret = console.settings.effective_jwt_secret()
    return issue_token(secret, org="acme", roles=["SRE_LEAD"], sub=sub)


async def _waiting(console: Platform, session_id: str) -> bool:
    response = await console.http.get(f"/v1/sessions/{session_id}", headers=console.auth("acme"))
    return bool(response.json().get("status") == "waiting_approval")


async def _waiting_session(console: Platform, out: Path, title: str) -> dict[str, Any]:
    """A gated-touch session for a new incident, waiting for its step's approval."""
    await add_runbook(console, "gated-touch", GATED)
    incident = await console.create_incident("acme", title=title)
    inputs = {"out": str(out)}
    session = await started(console, "acme", incident["id"], "gated-touch", inputs=inputs)
    await eventually(lambda: _waiting(console, session["session_id"]))
    return session


async def test_a_second_person_approves_from_the_dashboard(
    browser: Browser, console: Platform, tmp_path: Path
) -> None:
    session = await _waiting_session(console, tmp_path, "Needs a careful touch")
    page = await signed_in(browser, console, await add_user(console, "lead@acme.test", "SRE_LEAD"))

    await page.goto("/approvals")
    await expect(page.locator("#approvals-count")).to_have_text("1")
    row = page.locator("article.approval", has_text="gated-touch")
    await expect(row.get_by_label("Command")).to_have_text(f"touch {tmp_path}/approved")
    await expect(row.locator(".host")).to_contain_text("the worker itself (local)")
    await expect(row.locator(".confidence")).to_have_text(re.compile(r"^\d+%$"))
    await expect(row.locator("time.countdown")).to_have_text(re.compile(r"^59m \d\ds left$"))
    await page.screenshot(path=str(screenshots(tmp_path) / "approvals.png"), full_page=True)
    await row.get_by_label("Note").fill("looked at it, go")
    await row.get_by_role("button", name="Approve").click()

    await expect(page.get_by_text("Nothing waits for a decision.")).to_be_visible()
    await expect(page.locator("#approvals-count")).to_have_text("0")
    done = await wait_for_status(console, "acme", session["session_id"], "completed")
    assert done["steps"][0]["approved_by"] == "lead@acme.test"
    assert (tmp_path / "approved").exists()


async def test_a_viewer_cannot_decide(browser: Browser, console: Platform, tmp_path: Path) -> None:
    await _waiting_session(console, tmp_path, "Needs a careful touch")
    page = await signed_in(browser, console, await add_user(console, "view@acme.test", "VIEWER"))

    await page.goto("/approvals")

    row = page.locator("article.approval", has_text="gated-touch")
    await expect(row).to_contain_text("Not yours to decide")
    await expect(row.get_by_role("button", name="Approve")).to_have_count(0)


async def test_the_session_page_follows_the_step_live_after_an_approval(
    browser: Browser, console: Platform, tmp_path: Path
) -> None:
    session = await _waiting_session(console, tmp_path, "Watch it run")
    watcher = await signed_in(browser, console, await add_user(console, "w@acme.test", "SRE_LEAD"))
    await watcher.goto(f"/sessions/{session['session_id']}")
    await expect(watcher.locator(".session-status")).to_have_text("waiting approval")

    # A second person decides in the dashboard, in a browser of their own.
    approver = await signed_in(
        browser, console, await add_user(console, "second@acme.test", "SRE_LEAD")
    )
    await approver.goto("/approvals")
    card = approver.locator("article.approval", has_text="gated-touch")
    await card.get_by_label("Note").fill("from the dashboard")
    await card.get_by_role("button", name="Approve").click()

    # No reload on the watcher's page: it fetches its body again while the session runs.
    await expect(watcher.locator(".session-status")).to_have_text("completed", timeout=20_000)
    step = watcher.locator("tr[data-step='touch']")
    await expect(step.locator(".step-status")).to_have_text("succeeded")
    await expect(step).to_contain_text("second@acme.test")
    await expect(watcher.get_by_role("button", name="Cancel session")).to_have_count(0)
