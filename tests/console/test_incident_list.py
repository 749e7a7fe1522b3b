"""The incident list's view in the URL: filters, sort and pages that a second person
opening the same address sees too; the org's enrichment columns chosen in the settings;
and what a bad address shows instead of an error page."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.console.conftest import add_user, base_url, signed_in
from tests.platform.harness import Platform


async def _seed(console: Platform) -> None:
    await console.create_incident(
        title="Payments p99 over 2s",
        severity="SEV1",
        service="payments",
        tags=["latency"],
        enrichments={"target_project": "OPS", "priority": "Highest"},
    )
    await console.create_incident(title="Payments retries climbing", service="payments")
    await console.create_incident(title="Search index lagging", severity="SEV1", service="search")


async def _titles(page: Page) -> list[str]:
    await expect(page.locator("#incident-rows tr").first).to_be_visible()
    return await page.locator("#incident-rows tr td:nth-child(3)").all_inner_texts()


async def test_a_filtered_sorted_view_is_shared_by_its_address(
    browser: Browser, console: Platform
) -> None:
    await _seed(console)
    lead = await signed_in(browser, console, await add_user(console, "l@acme.test", "SRE_LEAD"))

    await lead.get_by_label("Service").fill("payments")
    await lead.get_by_label("Sort").select_option("oldest first")
    await lead.get_by_role("button", name="Filter").click()

    await expect(lead).to_have_url(f"{base_url(console)}/?service=payments&sort=created_at")
    assert await _titles(lead) == ["Payments p99 over 2s", "Payments retries climbing"]
    viewer = await signed_in(browser, console, await add_user(console, "v@acme.test", "VIEWER"))
    await viewer.goto("/?severity=SEV1&tag=latency")
    assert await _titles(viewer) == ["Payments p99 over 2s"]
    await expect(viewer.get_by_label("Severity")).to_have_value("SEV1")


async def test_pages_follow_each_other_without_repeating_a_row(
    browser: Browser, console: Platform
) -> None:
    for n in range(11):
        await console.create_incident(title=f"Batch job {n:02d} failed")
    page = await signed_in(browser, console, await add_user(console, "p@acme.test", "VIEWER"))

    await page.goto("/?q=Batch&sort=created_at&per_page=10")
    first = await _titles(page)
    await page.get_by_role("link", name="Next page").click()
    second = await _titles(page)

    assert first + second == [f"Batch job {n:02d} failed" for n in range(11)]
    await expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    await page.get_by_role("link", name="First page").click()
    assert await _titles(page) == first


async def test_a_mangled_cursor_is_named_and_the_first_page_shown(
    browser: Browser, console: Platform
) -> None:
    await _seed(console)
    page = await signed_in(browser, console, await add_user(console, "m@acme.test", "VIEWER"))

    await page.goto("/?sort=created_at&q=Payments&cursor=not-a-cursor")

    await expect(page.get_by_role("alert")).to_contain_text("cursor")
    assert await _titles(page) == ["Payments p99 over 2s", "Payments retries climbing"]


async def test_enrichment_columns_are_the_orgs_choice(browser: Browser, console: Platform) -> None:
    await _seed(console)
    await console.create_incident(title="Gold customer cannot pay", enrichments={"tier": "gold"})
    admin = await signed_in(browser, console, await add_user(console, "a@acme.test", "ORG_ADMIN"))

    row = admin.locator("tr", has_text="Payments p99 over 2s")
    await expect(row.locator(".badge", has_text="Highest")).to_be_visible()
    await expect(admin.get_by_role("columnheader", name="Project")).to_be_visible()

    await admin.goto("/settings")
    await admin.get_by_label("Enrichment columns").fill("tier, ticket_id")
    await admin.get_by_role("button", name="Save columns").click()
    await admin.goto("/")

    await expect(admin.get_by_role("columnheader", name="Tier")).to_be_visible()
    await expect(admin.get_by_role("columnheader", name="Project")).to_have_count(0)
    await expect(admin.locator("tr", has_text="Gold customer cannot pay")).to_contain_text("gold")


async def test_a_bad_column_list_is_refused_and_the_list_keeps_its_columns(
    browser: Browser, console: Platform
) -> None:
    admin = await signed_in(browser, console, await add_user(console, "b@acme.test", "ORG_ADMIN"))
    await admin.goto("/settings")

    await admin.get_by_label("Enrichment columns").fill("tier, tier")
    await admin.get_by_role("button", name="Save columns").click()

    await expect(admin.get_by_role("alert")).to_have_text("'tier' is listed twice")
    saved = await console.http.get("/v1/settings/list-columns", headers=console.auth())
    assert saved.json()["columns"] == ["ticket_id", "target_project", "priority"]


async def test_a_bad_filter_is_named_and_ignored(browser: Browser, console: Platform) -> None:
    await _seed(console)
    page = await signed_in(browser, console, await add_user(console, "c@acme.test", "VIEWER"))

    await page.goto("/?since=yesterday&severity=SEV9&service=search")

    await expect(page.get_by_role("alert")).to_contain_text("since 'yesterday' is not a date")
    await expect(page.get_by_role("alert")).to_contain_text("severity 'SEV9' is not one of")
    assert await _titles(page) == ["Search index lagging"]
