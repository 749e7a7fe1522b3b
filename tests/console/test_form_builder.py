"""The form-schema document's flow end to end in a browser: an admin builds the ACME form
in the builder, an engineer creates an incident with `target_project`, the ticket's toast
appears and the Ticket column links to the (fake) Jira. And the builder's refusals: a
broken field shown at its input with nothing saved, and a read-only form for non-admins."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Browser, Locator, Page, expect

from tests.console.conftest import add_user, base_url, screenshots, signed_in
from tests.fakes.jira_server import FakeJira
from tests.platform.harness import Platform


async def _add_field(page: Page, number: int, **inputs: str) -> Locator:
    await page.get_by_role("button", name="Add field").click()
    field = page.get_by_role("group", name=f"Field {number}")
    for label, value in inputs.items():
        control = field.get_by_label(label, exact=True)
        if label == "Type":
            await control.select_option(value)
        else:
            await control.fill(value)
    return field


async def test_admin_builds_the_acme_form_and_an_engineer_gets_a_jira_ticket(
    jira_browser: Browser, console_with_jira: Platform, fake_jira: FakeJira, tmp_path: Path
) -> None:
    console = console_with_jira
    admin = await signed_in(
        jira_browser, console, await add_user(console, "admin@acme.test", "ORG_ADMIN")
    )
    await admin.goto("/settings")
    await admin.get_by_role("link", name="Incident form").click()
    await admin.get_by_label("Form name").fill("ACME Incident Form")
    await _add_field(admin, 1, Name="priority", Label="Priority Level", Type="select")
    await admin.get_by_label("Options, one per line (select, radio)").fill("High\nMedium\nLow")
    await admin.get_by_label("Default", exact=True).fill("Medium")
    project = await _add_field(admin, 2, Name="target_project", Label="Jira Project", Type="select")
    await project.get_by_label("Options, one per line (select, radio)").fill(
        "OPS\nSUPPORT\nENGINEERING\nINFRASTRUCTURE"
    )
    await project.get_by_label("Default", exact=True).fill("OPS")
    await project.get_by_label("Required").check()
    await project.get_by_label("Help text").fill("Target Jira project for ticket creation")
    await admin.get_by_role("button", name="Move field 2 up").click()  # the project first
    await expect(admin.get_by_role("group", name="Field 1")).to_contain_text("target_project")

    await admin.get_by_role("button", name="Preview").click()
    preview = admin.get_by_role("region", name="Preview: the create-incident dialog's fields")
    await expect(preview.get_by_label("Jira Project")).to_have_value("OPS")
    await expect(preview.get_by_text("Target Jira project for ticket creation")).to_be_visible()
    await admin.screenshot(path=str(screenshots(tmp_path) / "form-builder.png"), full_page=True)
    await admin.get_by_role("button", name="Save form").click()
    await expect(admin.get_by_text("Saved as version 1.")).to_be_visible()

    saved = await console.http.get("/v1/incidents/form-schema", headers=console.auth("acme"))
    assert saved.json()["name"] == "ACME Incident Form"
    assert [f["name"] for f in saved.json()["fields"]] == ["target_project", "priority"]
    assert saved.json()["fields"][0]["required"] is True

    engineer = await signed_in(
        jira_browser, console, await add_user(console, "eng@acme.test", "ONCALL_ENGINEER")
    )
    await engineer.get_by_role("button", name="Create incident").click()
    dialog = engineer.get_by_role("dialog", name="Create incident")
    await dialog.get_by_label("Title").fill("Payments API timing out")
    await expect(dialog.get_by_label("Priority Level")).to_have_value("Medium")
    await dialog.get_by_label("Jira Project").select_option("SUPPORT")
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog).to_be_hidden()

    toast = engineer.locator(".toast", has_text="Jira ticket SUPPORT-1 opened")
    await expect(toast).to_be_visible(timeout=30_000)
    ticket_url = f"{fake_jira.url}/browse/SUPPORT-1"
    await expect(toast.get_by_role("link", name="SUPPORT-1")).to_have_attribute("href", ticket_url)
    row = engineer.locator("tr", has_text="Payments API timing out")
    ticket = row.get_by_role("link", name="SUPPORT-1")
    await expect(ticket).to_have_attribute("href", ticket_url, timeout=15_000)
    await expect(ticket).to_have_attribute("target", "_blank")
    await engineer.screenshot(path=str(screenshots(tmp_path) / "ticket-toast.png"))
    [issue] = fake_jira.issues
    assert issue.summary == "[SEV3] Payments API timing out"


async def test_a_broken_field_is_shown_at_its_input_and_nothing_is_saved(
    browser: Browser, console: Platform
) -> None:
    admin = await signed_in(browser, console, await add_user(console, "a@acme.test", "ORG_ADMIN"))
    await admin.goto("/settings/form")
    field = await _add_field(admin, 1, Name="Target Project", Label="Project", Type="select")

    await admin.get_by_role("button", name="Save form").click()

    await expect(admin.get_by_role("alert")).to_contain_text("Nothing was saved")
    await expect(field.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(field).to_contain_text("must match ^[a-z][a-z0-9_]*$")
    await expect(field).to_contain_text("a select field needs at least one option")
    await expect(field.get_by_label("Label", exact=True)).to_have_value("Project")  # kept
    saved = await console.http.get("/v1/incidents/form-schema", headers=console.auth("acme"))
    assert saved.status_code == 404


async def test_a_lead_sees_the_form_read_only_and_cannot_save_it(
    browser: Browser, console: Platform
) -> None:
    lead = await signed_in(browser, console, await add_user(console, "l@acme.test", "SRE_LEAD"))
    await lead.goto("/settings/form")
    await expect(lead.get_by_text("Only an ORG_ADMIN changes the form.")).to_be_visible()
    await expect(lead.get_by_role("button", name="Save form")).to_have_count(0)
    token = await lead.locator("input[name=csrf_token]").first.get_attribute("value")
    cookies = {c["name"]: c["value"] for c in await lead.context.cookies()}

    async with httpx.AsyncClient(base_url=base_url(console), cookies=cookies) as client:
        refused = await client.post(
            "/settings/form",
            data={
                "csrf_token": token or "",
                "action": "save",
                "count": "1",
                "f0.name": "sneaky",
                "f0.label": "Sneaky",
                "f0.type": "text",
            },
        )

    assert refused.status_code == 404
    saved = await console.http.get("/v1/incidents/form-schema", headers=console.auth("acme"))
    assert saved.status_code == 404


async def test_a_forged_overlong_form_name_is_refused_at_its_field(
    browser: Browser, console: Platform
) -> None:
    admin = await signed_in(browser, console, await add_user(console, "n@acme.test", "ORG_ADMIN"))
    await admin.goto("/settings/form")
    token = await admin.locator("input[name=csrf_token]").first.get_attribute("value")
    cookies = {c["name"]: c["value"] for c in await admin.context.cookies()}
    fields = {"f0.name": "team", "f0.label": "Team", "f0.type": "text"}

    async with httpx.AsyncClient(base_url=base_url(console), cookies=cookies) as client:
        body = {"csrf_token": token or "", "action": "save", "count": "1", "form_name": "x" * 300}
        refused = await client.post("/settings/form", data=body | fields)

    assert refused.status_code == 422 and "at most 200 characters" in refused.text
    saved = await console.http.get("/v1/incidents/form-schema", headers=console.auth("acme"))
    assert saved.status_code == 404
