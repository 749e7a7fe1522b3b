"""The console for everyone: on a 390 px phone the main pages fit the screen's width
(nothing to scroll sideways) with what an on-call person needs first on screen; every
control has a label a screen reader reads; and an incident can be created by keyboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from tests.console.conftest import add_user, signed_in
from tests.platform.harness import Platform

PHONE: ViewportSize = {"width": 390, "height": 844}
UNLABELLED = """[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
  .filter(e => !e.labels.length && !e.getAttribute("aria-label")).map(e => e.name)"""


async def _page_width(page: Page) -> int:
    width: int = await page.evaluate("document.documentElement.scrollWidth")
    return width


@pytest.mark.parametrize("path", ["/", "/tickets", "/approvals", "/settings", "/workflows"])
async def test_each_page_fits_a_phone(
    browser: Browser, console: Platform, path: str, tmp_path: Path
) -> None:
    await console.create_incident(
        title="A rather long incident title that has to wrap on a small phone screen",
        enrichments={"ticket_id": "OPS-1234", "ticket_url": "https://jira.example/browse/OPS-1234"},
    )
    page = await signed_in(
        browser, console, await add_user(console, "m@acme.test", "ORG_ADMIN"), PHONE
    )

    await page.goto(path)

    await expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    assert await _page_width(page) <= PHONE["width"]
    assert await page.evaluate(UNLABELLED) == []
    await page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)


async def test_an_incident_fits_a_phone_with_its_actions_in_reach(
    browser: Browser, console: Platform
) -> None:
    incident = await console.create_incident(title="Disk 97% full on db-primary-eu-west-1")
    page = await signed_in(
        browser, console, await add_user(console, "n@acme.test", "SRE_LEAD"), PHONE
    )

    await page.goto(f"/incidents/{incident['id']}")

    await expect(page.get_by_role("heading", name="Disk 97% full")).to_be_in_viewport()
    assert await _page_width(page) <= PHONE["width"]
    await page.get_by_role("button", name="Add note").scroll_into_view_if_needed()
    await expect(page.get_by_role("button", name="Add note")).to_be_in_viewport()


async def test_an_incident_is_created_with_the_keyboard_alone(
    browser: Browser, console: Platform
) -> None:
    page = await signed_in(browser, console, await add_user(console, "k@acme.test", "SRE_LEAD"))

    await page.get_by_role("button", name="Create incident").focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Create incident")
    await expect(dialog.get_by_label("Title")).to_be_focused()  # the dialog takes the focus
    await page.keyboard.type("Typed without a mouse")
    await page.keyboard.press("Enter")

    await expect(dialog).to_be_hidden()
    await expect(page.locator("tr", has_text="Typed without a mouse")).to_be_visible()
