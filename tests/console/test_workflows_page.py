"""The workflows page: each definition's lint state at file:line, active or not and why;
an ORG_ADMIN reloads after a file changed, a VIEWER has no reload button."""

from __future__ import annotations

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
