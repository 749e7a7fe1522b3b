"""A session's page in the browser: its incident's ticket linked, and the output line by
line while the command still runs (the precheck below prints a line, then waits for the
test's go-ahead before printing more)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.console.conftest import add_user, screenshots, signed_in
from tests.platform.harness import Platform
from tests.platform.session_helpers import add_runbook, started

WAITS_FOR_GO = """
runbook:
  id: waits-for-go
  name: Print, wait for a go-ahead, print again
  inputs:
    - {name: dir, type: string, required: true}
  prechecks:
    - name: wait-for-go
      run: |
        echo 'ready <b>not bold</b>'
        while [ ! -e {{ inputs.dir }}/go ]; do sleep 0.2; done
        echo "went"
      connector: local
      timeout: 2m
  steps:
    - name: noop
      run: "true"
      connector: local
"""


async def test_output_lines_appear_while_the_command_runs(
    browser: Browser, console: Platform, tmp_path: Path
) -> None:
    await add_runbook(console, "waits-for-go", WAITS_FOR_GO)
    ticket = {"ticket_id": "OPS-42", "ticket_url": "https://jira.example/browse/OPS-42"}
    incident = await console.create_incident(title="Watch the output", enrichments=ticket)
    session = await started(
        console, "acme", incident["id"], "waits-for-go", inputs={"dir": str(tmp_path)}
    )
    page = await signed_in(browser, console, await add_user(console, "o@acme.test", "SRE_LEAD"))

    await page.goto(f"/sessions/{session['session_id']}")
    output = page.get_by_role("log")
    await expect(page.get_by_role("link", name="OPS-42")).to_have_attribute(
        "href", ticket["ticket_url"]
    )

    first = output.locator(".line").first
    await expect(first).to_contain_text("ready <b>not bold</b>", timeout=20_000)  # as text
    await expect(first.locator(".where")).to_contain_text("wait-for-go @ ")  # step and host
    await expect(output).not_to_contain_text("went")  # still waiting: the line came live
    (tmp_path / "go").touch()
    await expect(output.locator(".line").nth(1)).to_contain_text("went", timeout=20_000)
    await expect(output.locator("b")).to_have_count(0)
    await page.screenshot(path=str(screenshots(tmp_path) / "session.png"), full_page=True)
