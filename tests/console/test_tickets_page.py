"""The Tickets tab in a real browser: cards with classification, triage and session
status, a classification filter, and a draft runbook to download; screenshots of the
main pages for the docs."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, expect

from tests.console.conftest import add_user, screenshots, signed_in
from tests.platform.harness import Platform, eventually


async def _triaged(console: Platform, incident_id: str) -> bool:
    incident = await console.incident(incident_id)
    return incident.get("triage_status") not in (None, "analyzing")


async def test_ticket_cards_show_the_classification_and_filter_on_it(
    browser: Browser, console: Platform, tmp_path: Path
) -> None:
    images = screenshots(tmp_path)
    page = await signed_in(browser, console, await add_user(console, "t@acme.test", "SRE_LEAD"))
    noise = await console.create_incident("acme", title="Canary probe failed: login")
    real = await console.create_incident(
        "acme", title="checkout service down", service="checkout", severity="SEV2"
    )
    for incident in (noise, real):
        await eventually(lambda i=incident: _triaged(console, i["id"]))

    await page.goto("/tickets")
    noise_card = page.locator("article", has_text="Canary probe failed")
    await expect(noise_card.locator(".classification")).to_contain_text("false positive")
    real_card = page.locator("article", has_text="checkout service down")
    await expect(real_card).to_contain_text("restart-systemd-service")
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.screenshot(path=str(images / "tickets.png"), full_page=True)

    await page.get_by_label("Classification").select_option("false_positive")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("article")).to_have_count(1)
    await expect(page.locator("article")).to_contain_text("Canary probe failed")

    async with page.expect_download() as download_info:
        await page.locator("article").get_by_role("link", name="Create runbook").click()
    download = await download_info.value
    assert download.suggested_filename == "canary-probe-failed-login.yaml"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert saved.read_text().startswith("# Draft runbook written by Fireline")

    await page.goto("/")
    await page.screenshot(path=str(images / "incidents.png"), full_page=True)
    await page.goto(f"/incidents/{noise['id']}")
    await page.screenshot(path=str(images / "incident.png"), full_page=True)


async def test_a_cards_quick_actions_update_status_and_lead_to_its_runbook(
    browser: Browser, console: Platform
) -> None:
    page = await signed_in(browser, console, await add_user(console, "q@acme.test", "SRE_LEAD"))
    real = await console.create_incident(
        "acme", title="checkout service down", service="checkout", severity="SEV2"
    )
    await eventually(lambda: _triaged(console, real["id"]))
    await page.goto("/tickets")
    card = page.locator("article", has_text="checkout service down")

    await card.get_by_label("Status of checkout service down", exact=True).select_option(
        "INVESTIGATING"
    )
    await card.get_by_role("button", name="Update the status of checkout service down").click()

    await expect(page).to_have_url(re.compile(r"/tickets$"))
    await expect(card.locator(".badge").first).to_have_text("investigating")
    assert (await console.incident(real["id"]))["status"] == "INVESTIGATING"
    await card.get_by_role("link", name="View runbook").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Runbook: restart-systemd-service"
    )
    await expect(page.get_by_label("Runbook source")).to_contain_text("systemctl")
    await page.go_back()
    await card.get_by_role("link", name="Execute restart-systemd-service").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Preview: restart-systemd-service"
    )
