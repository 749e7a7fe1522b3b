"""Creating an incident in the console's dialog from the org's form: the form's fields
with their labels, defaults and marks; a field error shown at its field; and after a
create the dialog closes and the row appears."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.console.conftest import add_user, signed_in
from tests.platform.harness import Platform

ACME_FORM = {
    "name": "ACME incident",
    "fields": [
        {
            "name": "target_project",
            "label": "Jira Project",
            "type": "select",
            "required": True,
            "options": ["OPS", "SUPPORT"],
            "default_value": "OPS",
        },
        {"name": "urgent", "label": "Urgent", "type": "checkbox"},
        {
            "name": "users",
            "label": "Users hit",
            "type": "number",
            "min_value": 0,
            "max_value": 100,
            "description": "How many customers noticed",
        },
    ],
}


async def _with_form(console: Platform) -> None:
    response = await console.http.post(
        "/v1/incidents/form-schema", json=ACME_FORM, headers=console.auth("acme")
    )
    assert response.status_code in (200, 201), response.text


async def test_an_engineer_creates_an_incident_from_the_orgs_form(
    browser: Browser, console: Platform
) -> None:
    await _with_form(console)
    page = await signed_in(
        browser, console, await add_user(console, "eng@acme.test", "ONCALL_ENGINEER")
    )

    await page.get_by_role("button", name="Create incident").click()
    dialog = page.get_by_role("dialog", name="Create incident")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Jira Project")).to_have_value("OPS")
    await expect(dialog.get_by_text("How many customers noticed")).to_be_visible()
    await dialog.get_by_label("Title").fill("Payments API timing out")
    await dialog.get_by_label("Jira Project").select_option("SUPPORT")
    await dialog.get_by_label("Urgent").check()
    await dialog.get_by_label("Users hit").fill("12")
    await dialog.get_by_role("button", name="Create").click()

    await expect(dialog).to_be_hidden()
    row = page.locator("tr", has_text="Payments API timing out")
    await expect(row).to_be_visible(timeout=15_000)
    listed = await console.http.get("/v1/incidents", headers=console.auth("acme"))
    [created] = [i for i in listed.json()["items"] if i["title"] == "Payments API timing out"]
    enrichments = created["enrichments"]
    assert (enrichments["target_project"], enrichments["urgent"], enrichments["users"]) == (
        "SUPPORT",
        True,
        12,
    )


async def test_a_field_error_is_shown_at_its_field_and_nothing_is_created(
    browser: Browser, console: Platform
) -> None:
    await _with_form(console)
    page = await signed_in(browser, console, await add_user(console, "eng2@acme.test", "SRE_LEAD"))

    await page.get_by_role("button", name="Create incident").click()
    dialog = page.get_by_role("dialog", name="Create incident")
    await dialog.get_by_label("Title").fill("Too many users")
    await dialog.get_by_label("Users hit").fill("500")
    await dialog.get_by_role("button", name="Create").click()

    await expect(dialog.get_by_role("alert")).to_have_text("'Users hit' must be at most 100")
    await expect(dialog).to_be_visible()
    listed = await console.http.get("/v1/incidents", headers=console.auth("acme"))
    assert [i for i in listed.json()["items"] if i["title"] == "Too many users"] == []


async def test_the_creators_list_shows_the_new_row_without_the_live_stream(
    browser: Browser, console: Platform
) -> None:
    """The live stream only reports changes after it connects: an incident created before
    it did (a quick create right after the page loads) must still appear for its creator."""
    page = await signed_in(browser, console, await add_user(console, "s@acme.test", "SRE_LEAD"))
    await page.route("**/events", lambda route: route.abort())  # no live stream at all
    await page.reload()

    await page.get_by_role("button", name="Create incident").click()
    dialog = page.get_by_role("dialog", name="Create incident")
    await dialog.get_by_label("Title").fill("Created before the stream connected")
    await dialog.get_by_role("button", name="Create").click()

    await expect(dialog).to_be_hidden()
    await expect(page.locator("tr", has_text="Created before the stream connected")).to_be_visible()
