"""The console in a real browser: signing in and out, the live incident list with its
Ticket links, an incident's triage corrected by a person, what a VIEWER sees, another
org's incident, and a state change from another origin."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, expect

from console.session import COOKIE
from tests.console.conftest import PASSWORD, add_user, base_url, signed_in
from tests.platform.harness import Platform, eventually


async def test_sign_in_wrong_password_and_sign_out(browser: Browser, console: Platform) -> None:
    email = await add_user(console, "oncall@acme.test", "ONCALL_ENGINEER")
    context = await browser.new_context(base_url=base_url(console))
    page = await context.new_page()

    await page.goto("/")
    await expect(page).to_have_url(f"{base_url(console)}/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")

    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Incidents")).to_be_visible()
    [cookie] = [c for c in await context.cookies() if c["name"] == COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert await page.evaluate("document.cookie") == ""  # scripts never see the session

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.goto("/")
    await expect(page).to_have_url(f"{base_url(console)}/login")


async def test_a_new_incident_appears_live_with_its_ticket_link(
    browser: Browser, console: Platform
) -> None:
    page = await signed_in(browser, console, await add_user(console, "a@acme.test", "SRE_LEAD"))

    await console.create_incident(
        "acme",
        title="Checkout 5xx after deploy",
        enrichments={"ticket_id": "OPS-7", "ticket_url": "https://jira.example/browse/OPS-7"},
    )

    row = page.locator("tr", has_text="Checkout 5xx after deploy")
    await expect(row).to_be_visible(timeout=15_000)  # no reload: the live stream brought it
    link = row.get_by_role("link", name="OPS-7")
    await expect(link).to_have_attribute("href", "https://jira.example/browse/OPS-7")
    await expect(link).to_have_attribute("target", "_blank")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")


async def test_a_person_corrects_the_triage(browser: Browser, console: Platform) -> None:
    page = await signed_in(browser, console, await add_user(console, "b@acme.test", "SRE_LEAD"))
    incident = await console.create_incident("acme", title="Synthetic check failed: login")

    async def closed() -> bool:
        return (await console.incident(incident["id"]))["status"] == "RESOLVED"

    await eventually(closed)
    await page.goto(f"/incidents/{incident['id']}")
    await expect(page.locator(".triage-status")).to_have_text("closed false positive")
    await page.get_by_label("Triage note").fill("the login journey really failed")
    await page.get_by_role("button", name="It is real").click()

    await expect(page.locator(".timeline")).to_contain_text("triaged by b@acme.test")
    await eventually(lambda: _reopened(console, incident["id"]))


async def _reopened(console: Platform, incident_id: str) -> bool:
    return (await console.incident(incident_id))["status"] == "OPEN"


async def test_a_viewer_sees_no_buttons_that_would_be_refused(
    browser: Browser, console: Platform
) -> None:
    page = await signed_in(browser, console, await add_user(console, "v@acme.test", "VIEWER"))
    incident = await console.create_incident("acme", title="Disk full on db-7")

    await page.goto(f"/incidents/{incident['id']}")

    await expect(page.get_by_role("heading", name="Disk full on db-7")).to_be_visible()
    await expect(page.get_by_role("button", name="It is real")).to_have_count(0)


async def test_another_orgs_incident_is_a_404_that_reveals_nothing(
    browser: Browser, console: Platform
) -> None:
    page = await signed_in(browser, console, await add_user(console, "c@acme.test", "ORG_ADMIN"))
    theirs = await console.create_incident("globex", title="Globex secret merger outage")

    response = await page.goto(f"/incidents/{theirs['id']}")

    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert "Globex" not in await page.content()


async def test_a_state_change_from_another_origin_is_refused(
    browser: Browser, console: Platform
) -> None:
    page = await signed_in(browser, console, await add_user(console, "d@acme.test", "SRE_LEAD"))
    incident = await console.create_incident("acme", title="Queue backlog")
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    url = f"{base_url(console)}/incidents/{incident['id']}/verdict"

    async with httpx.AsyncClient(cookies=cookies) as attacker:
        foreign = await attacker.post(
            url, data={"verdict": "false_positive"}, headers={"Origin": "https://evil.example"}
        )
        tokenless = await attacker.post(url, data={"verdict": "false_positive"})

    assert foreign.status_code == 403 and "evil.example" in foreign.text
    assert tokenless.status_code == 403
    timeline = await console.http.get(
        f"/v1/incidents/{incident['id']}/timeline", headers=console.auth("acme")
    )
    said = [e for e in timeline.json()["events"] if e["payload"].get("stage") == "verdict"]
    assert said == []


async def test_a_notification_pops_up_as_a_toast_with_its_links(
    browser: Browser, console: Platform
) -> None:
    page = await signed_in(browser, console, await add_user(console, "e@acme.test", "SRE_LEAD"))

    incident = await console.create_incident("acme", title="Canary probe failed: search")

    toast = page.locator(".toast", has_text="False positive closed")
    await expect(toast).to_be_visible(timeout=15_000)
    await expect(toast.get_by_role("link", name="Incident")).to_have_attribute(
        "href", f"http://127.0.0.1:{console.settings.api_port}/incidents/{incident['id']}"
    )
    await toast.get_by_role("button", name="Dismiss").click()
    await expect(toast).to_have_count(0)

    # Dismissed, it is still in the drawer, with its links; another org's never is.
    await console.create_incident("globex", title="Canary probe failed: globex secret")
    await eventually(lambda: _has_notification(console, "globex"))
    await page.get_by_text("Notifications", exact=True).click()
    drawer = page.locator(".drawer-body")
    await expect(drawer).to_contain_text("False positive closed")
    await expect(drawer.get_by_role("link", name="Incident").first).to_have_attribute(
        "href", f"http://127.0.0.1:{console.settings.api_port}/incidents/{incident['id']}"
    )
    assert "globex" not in await drawer.inner_text()


async def _has_notification(console: Platform, org: str) -> bool:
    return bool(await console.notifications(org))
