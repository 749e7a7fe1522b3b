"""The workflows page: each definition's lint state at file:line, active or not and why;
an ORG_ADMIN reloads after a file changed, a VIEWER has no reload button."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.console.conftest import add_user, signed_in
from tests.platform.harness import Platform

BROKEN = """workflow:
  id: broken-one
  triggers: [{type: incident, events: [created]}]
  steps:
    - name: oops
      provider: {type: nosuchprovider}
"""


async def test_an_admin_sees_lint_errors_after_a_reload(
    browser: Browser, console: Platform
) -> None:
    page = await signed_in(browser, console, await add_user(console, "adm@acme.test", "ORG_ADMIN"))
    await page.goto("/workflows")
    await expect(page.locator("tr[data-file$='announce.yaml'] .state")).to_have_text("active")
    jira = page.locator("tr[data-file$='jira-incident-integration.yaml'] .state")
    await expect(jira).to_contain_text("inactive: provider jira")  # no Jira configured here

    (console.settings.workflows_dir / "broken-one.yaml").write_text(BROKEN)
    await page.get_by_role("button", name="Reload from disk").click()

    broken = page.locator("tr[data-file$='broken-one.yaml']")
    await expect(broken.locator(".state")).to_have_text("has errors")
    await expect(broken.locator(".error")).to_contain_text("broken-one.yaml:6")


async def test_a_viewer_cannot_reload(browser: Browser, console: Platform) -> None:
    page = await signed_in(browser, console, await add_user(console, "vw@acme.test", "VIEWER"))
    await page.goto("/workflows")
    await expect(page.get_by_role("heading", name="Workflows and runbooks")).to_be_visible()
    await expect(page.get_by_role("button", name="Reload from disk")).to_have_count(0)


async def test_a_workflows_latest_runs_link_into_temporal(
    browser: Browser, console: Platform
) -> None:
    incident = await console.create_incident(title="Tell the room")
    run = {"inputs": {"message": "bridge is open"}, "incident_id": incident["id"]}
    started = await console.http.post(
        "/v1/workflows/announce/run", json=run, headers=console.auth()
    )
    assert started.status_code in (200, 201, 202), started.text
    page = await signed_in(browser, console, await add_user(console, "rr@acme.test", "VIEWER"))

    await page.goto("/workflows")

    runs = page.locator("tr[data-file$='announce.yaml'] .runs")
    ui = console.settings.resolved_temporal_ui_url.rstrip("/")
    await expect(runs.get_by_role("link").first).to_have_attribute(
        "href", re.compile(f"^{re.escape(ui)}/")
    )
    await expect(runs.get_by_role("link", name="manual")).to_have_attribute(
        "href", f"/incidents/{incident['id']}"
    )
    await expect(page.locator("tr[data-file$='slack-sev1.yaml'] .runs")).to_have_text("none")
