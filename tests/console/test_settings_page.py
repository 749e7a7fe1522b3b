"""The settings page: an ORG_ADMIN switches to auto mode, pauses triage's automatic
starts and sets its guardrails and weights; a bad value is refused at once with nothing
saved; others only read."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.console.conftest import add_user, signed_in
from tests.platform.harness import Platform


async def _saved(console: Platform) -> tuple[str, float, bool]:
    mode = (await console.http.get("/v1/settings/execution-mode", headers=console.auth())).json()
    triage = (await console.http.get("/v1/settings/triage", headers=console.auth())).json()
    return mode["mode"], triage["close_threshold"], triage["paused"]


async def test_an_admin_changes_the_mode_and_pauses_triage(
    browser: Browser, console: Platform
) -> None:
    page = await signed_in(browser, console, await add_user(console, "s@acme.test", "ORG_ADMIN"))
    await page.goto("/settings")

    await page.get_by_label("Execution mode").select_option("auto")
    await page.get_by_label("Close false positives from confidence").fill("0.9")
    await page.get_by_label("Pause every automatic start").check()
    await page.get_by_label("SEV1 start threshold").fill("never")
    await page.get_by_label("SEV3 start threshold").fill("0.95")
    await page.get_by_label("At once per service").fill("2")
    await page.get_by_label("Text weight").fill("0.5")
    await page.get_by_role("button", name="Save", exact=True).click()

    await expect(page.get_by_label("Execution mode")).to_have_value("auto")
    await expect(page.get_by_label("SEV1 start threshold")).to_have_value("never")
    assert await _saved(console) == ("auto", 0.9, True)
    triage = (await console.http.get("/v1/settings/triage", headers=console.auth())).json()
    assert triage["severity_thresholds"] == {"SEV1": None, "SEV3": 0.95}
    assert (triage["max_auto_sessions_per_service"], triage["weights"]["text"]) == (2, 0.5)


async def test_a_bad_value_is_refused_and_nothing_is_saved(
    browser: Browser, console: Platform
) -> None:
    page = await signed_in(browser, console, await add_user(console, "s2@acme.test", "ORG_ADMIN"))
    await page.goto("/settings")

    await page.get_by_label("Execution mode").select_option("auto")
    await page.get_by_label("Close false positives from confidence").fill("0.2")
    await page.get_by_role("button", name="Save", exact=True).click()

    await expect(page.get_by_role("alert")).to_contain_text("close_threshold")
    assert await _saved(console) == ("hil", 0.8, False)

    await page.get_by_label("SEV2 start threshold").fill("sometimes")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("severity_thresholds.SEV2")
    triage = (await console.http.get("/v1/settings/triage", headers=console.auth())).json()
    assert triage["severity_thresholds"] == {}


async def test_a_viewer_reads_but_cannot_change(browser: Browser, console: Platform) -> None:
    page = await signed_in(browser, console, await add_user(console, "s3@acme.test", "VIEWER"))
    await page.goto("/settings")
    await expect(page.get_by_label("Execution mode")).to_be_disabled()
    await expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)
