"""One incident's page in a browser: a lead changes status and severity, writes a note and
tags it, and the timeline says who did what; the page shows signals, SLO violations and
the automation that ran with its Temporal links; a refused change changes nothing."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, expect

from tests.console.conftest import add_user, base_url, signed_in
from tests.platform.harness import Platform


async def test_a_lead_works_the_incident_and_the_timeline_says_who_did_what(
    browser: Browser, console: Platform
) -> None:
    incident = await console.create_incident(title="Orders stuck in pending", severity="SEV3")
    page = await signed_in(browser, console, await add_user(console, "l@acme.test", "SRE_LEAD"))
    await page.goto(f"/incidents/{incident['id']}")

    await page.get_by_label("Status", exact=True).select_option("INVESTIGATING")
    await page.get_by_label("Status reason").fill("looking at the queue")
    await page.get_by_role("button", name="Change status").click()
    await page.get_by_label("Severity", exact=True).select_option("SEV1")
    await page.get_by_label("Severity reason").fill("checkout is down")
    await page.get_by_role("button", name="Change severity").click()
    await page.get_by_label("Note", exact=True).fill("queue consumer restarted at 10:02")
    await page.get_by_role("button", name="Add note").click()
    await page.get_by_label("Tag", exact=True).fill("orders")
    await page.get_by_role("button", name="Add tag").click()

    timeline = page.locator(".timeline")
    await expect(timeline).to_contain_text("OPEN → INVESTIGATING (looking at the queue)")
    await expect(timeline).to_contain_text("SEV3 → SEV1 (checkout is down)")
    await expect(timeline).to_contain_text("by l@acme.test: “queue consumer restarted at 10:02”")
    await expect(page.locator(".tags")).to_have_text("orders")
    saved = await console.incident(incident["id"])
    assert (saved["status"], saved["severity"], saved["tags"]) == (
        "INVESTIGATING",
        "SEV1",
        ["orders"],
    )


async def test_signals_slo_violations_and_runs_with_their_temporal_links(
    browser: Browser, console: Platform
) -> None:
    incident = await console.create_incident(title="Latency budget burning")
    signal = {"signal_type": "METRIC", "source": "prometheus", "summary": "p99 at 2.4s"}
    violation = {
        "slo_id": "checkout-latency",
        "window_start": "2026-12-05T10:00:00Z",
        "window_end": "2026-12-05T11:00:00Z",
        "error_budget_consumed": 0.42,
        "threshold_breached": True,
    }
    for path, body in (("signals", signal), ("slo-violations", violation)):
        url = f"/v1/incidents/{incident['id']}/{path}"
        answer = await console.http.post(url, json=body, headers=console.auth())
        assert answer.status_code == 200, answer.text
    run = {"inputs": {"message": "war room is open"}, "incident_id": incident["id"]}
    started = await console.http.post(
        "/v1/workflows/announce/run", json=run, headers=console.auth()
    )
    assert started.status_code in (200, 201, 202), started.text

    page = await signed_in(browser, console, await add_user(console, "v@acme.test", "VIEWER"))
    await page.goto(f"/incidents/{incident['id']}")

    await expect(page.locator(".signals")).to_contain_text("p99 at 2.4s")
    await expect(page.locator(".signals")).to_contain_text(
        "checkout-latency: 42% of the error budget, threshold breached"
    )
    announce = page.locator(".runs tr", has_text="announce")
    await expect(announce).to_be_visible()
    temporal = announce.get_by_role("link", name="open run")
    ui = console.settings.resolved_temporal_ui_url.rstrip("/")
    await expect(temporal).to_have_attribute("href", re.compile(f"^{re.escape(ui)}/.+"))
    await expect(page.get_by_role("button", name="Change status")).to_have_count(0)  # VIEWER


async def test_a_change_the_role_may_not_make_is_refused_and_nothing_changes(
    browser: Browser, console: Platform
) -> None:
    incident = await console.create_incident(title="Cache evictions", severity="SEV3")
    page = await signed_in(
        browser, console, await add_user(console, "o@acme.test", "ONCALL_ENGINEER")
    )
    await page.goto(f"/incidents/{incident['id']}")
    await expect(page.get_by_role("button", name="Change status")).to_be_visible()
    await expect(page.get_by_role("button", name="Change severity")).to_have_count(0)
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}

    async with httpx.AsyncClient(base_url=base_url(console), cookies=cookies) as client:
        url = f"/incidents/{incident['id']}/severity"
        refused = await client.post(url, data={"severity": "SEV1", "csrf_token": token or ""})
    await page.get_by_label("Tag", exact=True).fill("never-added")
    await page.get_by_role("button", name="Remove tag").click()

    assert refused.status_code == 403
    await expect(page.get_by_role("alert")).to_contain_text("never-added")
    saved = await console.incident(incident["id"])
    assert (saved["severity"], saved["tags"]) == ("SEV3", [])

    timeline = await console.http.get(
        f"/v1/incidents/{incident['id']}/timeline", headers=console.auth()
    )
    assert [e for e in timeline.json()["events"] if e["type"] == "INCIDENT_SEVERITY_CHANGED"] == []
