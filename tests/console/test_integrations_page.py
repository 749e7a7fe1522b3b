"""Integrations in a browser: an admin copies a webhook URL and sets its secret, adds
connections (the credential is never shown back), tests one and deletes one, adds a
person who then signs in with the password generated for them and removes one, who is
signed out at once; others get the 404 page."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from playwright.async_api import Browser, expect

from services.users import UserService
from tests.console.conftest import PASSWORD as USER_PASSWORD
from tests.console.conftest import add_user, base_url, signed_in
from tests.platform.harness import Platform

SECRET = "whsec-never-shown-9f2c"
PASSWORD = "snow-password-never-shown-41"


async def test_an_admin_sets_a_webhook_secret_that_is_never_shown_back(
    browser: Browser, console: Platform
) -> None:
    admin = await signed_in(browser, console, await add_user(console, "a@acme.test", "ORG_ADMIN"))
    await admin.goto("/settings")
    await admin.get_by_role("link", name="Integrations").click()
    config = await console.http.get("/v1/webhooks/alertmanager/config", headers=console.auth())
    await expect(admin.get_by_label("alertmanager URL", exact=True)).to_have_value(
        config.json()["url"]
    )

    await admin.get_by_text("Change alertmanager authentication").click()
    await admin.get_by_label("alertmanager authentication", exact=True).select_option("bearer")
    await admin.get_by_label("alertmanager secret").fill(SECRET)
    await admin.get_by_role("button", name="Save alertmanager").click()

    await expect(admin.get_by_role("status")).to_have_text(
        "The alertmanager webhook now authenticates with bearer."
    )
    assert SECRET not in await admin.content()
    saved = await console.http.get("/v1/webhooks/alertmanager/config", headers=console.auth())
    assert (saved.json()["auth"], saved.json()["hasSecret"]) == ("bearer", True)


async def test_connections_are_added_and_tested_with_credentials_write_only(
    browser: Browser, console: Platform, tmp_path: Path
) -> None:
    sqlite3.connect(tmp_path / "reports.db").close()  # the file the connection names
    admin = await signed_in(browser, console, await add_user(console, "c@acme.test", "ORG_ADMIN"))
    await admin.goto("/settings/integrations")

    await admin.get_by_text("Add a connection").click()
    await admin.get_by_label("Connection name").fill("reports-db")
    await admin.get_by_label("Kind", exact=True).select_option("db")
    await admin.get_by_label("Database (db: name, or SQLite file without a host)").fill(
        str(tmp_path / "reports.db")
    )
    await admin.get_by_role("button", name="Add connection").click()
    await expect(admin.get_by_role("status")).to_have_text("Connection reports-db added.")
    await admin.get_by_role("button", name="Test reports-db").click()
    await expect(admin.get_by_role("status")).to_contain_text("reports-db: reachable")

    await admin.get_by_text("Add a connection").click()
    await admin.get_by_label("Connection name").fill("acme-snow")
    await admin.get_by_label("Kind", exact=True).select_option("servicenow")
    await admin.get_by_label("Host", exact=True).fill("acme.service-now.example")
    await admin.get_by_label("Username", exact=True).fill("fireline.bot")
    await admin.get_by_label("Credential kind").select_option("password")
    await admin.get_by_label("Password or private key (write-only)").fill(PASSWORD)
    await admin.get_by_role("button", name="Add connection").click()

    row = admin.locator("tr[data-connection='acme-snow']")
    await expect(row).to_contain_text("password")
    assert PASSWORD not in await admin.content()


async def test_a_refused_connection_names_the_problem_and_adds_nothing(
    browser: Browser, console: Platform
) -> None:
    admin = await signed_in(browser, console, await add_user(console, "r@acme.test", "ORG_ADMIN"))
    await admin.goto("/settings/integrations")

    await admin.get_by_text("Add a connection").click()
    await admin.get_by_label("Connection name").fill("no-host")
    await admin.get_by_label("Kind", exact=True).select_option("ssh")
    await admin.get_by_role("button", name="Add connection").click()

    await expect(admin.get_by_role("alert")).to_contain_text("host")
    listed = await console.http.get("/v1/connections", headers=console.auth())
    assert [c for c in listed.json()["items"] if c["name"] == "no-host"] == []


async def test_an_admin_adds_a_person_who_signs_in_with_the_generated_password(
    browser: Browser, console: Platform
) -> None:
    admin = await signed_in(browser, console, await add_user(console, "u@acme.test", "ORG_ADMIN"))
    await admin.goto("/settings/integrations")

    await admin.get_by_text("Add a person").click()
    await admin.get_by_label("Email", exact=True).fill("new.oncall@acme.test")
    await admin.get_by_label("Role").select_option("ONCALL_ENGINEER")
    await admin.get_by_role("button", name="Add person").click()

    notice = await admin.get_by_role("status").inner_text()
    generated = notice.rsplit("shown once: ", 1)[1]
    await expect(admin.locator("table.users")).to_contain_text("new.oncall@acme.test")
    newcomer = await (
        await browser.new_context(base_url=admin.url.rsplit("/settings", 1)[0])
    ).new_page()
    await newcomer.goto("/login")
    await newcomer.get_by_label("Email", exact=True).fill("new.oncall@acme.test")
    await newcomer.get_by_label("Password").fill(generated)
    await newcomer.get_by_role("button", name="Sign in").click()
    await expect(newcomer.locator(".who")).to_contain_text(
        "new.oncall@acme.test · acme · ONCALL_ENGINEER"
    )


async def test_integrations_are_a_404_page_for_anyone_but_an_admin(
    browser: Browser, console: Platform
) -> None:
    lead = await signed_in(browser, console, await add_user(console, "l@acme.test", "SRE_LEAD"))

    response = await lead.goto("/settings/integrations")

    assert response is not None and response.status == 404
    await expect(lead.get_by_role("heading", name="Not found")).to_be_visible()


async def test_a_removed_person_is_sent_to_sign_in_and_cannot_come_back(
    browser: Browser, console: Platform
) -> None:
    admin = await signed_in(browser, console, await add_user(console, "m@acme.test", "ORG_ADMIN"))
    leaver = await signed_in(browser, console, await add_user(console, "x@acme.test", "SRE_LEAD"))
    await admin.goto("/settings/integrations")
    me = admin.locator("table.users tr", has_text="m@acme.test")
    await expect(me.get_by_text("Remove…")).to_have_count(0)  # nobody removes themselves

    await admin.locator("table.users tr", has_text="x@acme.test").get_by_text("Remove…").click()
    await admin.get_by_role("button", name="Remove x@acme.test").click()

    await expect(admin.get_by_role("status")).to_have_text(
        "x@acme.test removed: they can no longer sign in."
    )
    await expect(admin.locator("table.users")).not_to_contain_text("x@acme.test")
    await leaver.goto("/approvals")  # the cookie is still valid; the account is not
    await expect(leaver).to_have_url(f"{base_url(console)}/login")
    await leaver.get_by_label("Email", exact=True).fill("x@acme.test")
    await leaver.get_by_label("Password").fill(USER_PASSWORD)
    await leaver.get_by_role("button", name="Sign in").click()
    await expect(leaver.get_by_role("alert")).to_be_visible()
    await expect(leaver).to_have_url(re.compile(r"/login$"))


async def test_a_deleted_connection_is_gone_with_its_credential(
    browser: Browser, console: Platform
) -> None:
    for name in ("old-snow", "kept-snow"):
        created = await console.http.post(
            "/v1/connections",
            json={
                "name": name,
                "kind": "servicenow",
                "host": "acme.service-now.example",
                "username": "bot",
                "credential": {"kind": "password", "secret": PASSWORD},
            },
            headers=console.auth(),
        )
        assert created.status_code == 201, created.text
    admin = await signed_in(browser, console, await add_user(console, "k@acme.test", "ORG_ADMIN"))
    await admin.goto("/settings/integrations")

    await admin.locator("tr[data-connection='old-snow']").get_by_text("Delete…").click()
    await admin.get_by_role("button", name="Delete old-snow").click()

    await expect(admin.get_by_role("status")).to_have_text(
        "Connection old-snow deleted, with its credential."
    )
    await expect(admin.locator("tr[data-connection='old-snow']")).to_have_count(0)
    gone = await console.http.get("/v1/connections/old-snow", headers=console.auth())
    kept = await console.http.get("/v1/connections/kept-snow", headers=console.auth())
    assert (gone.status_code, kept.status_code) == (404, 200)


async def test_removals_refused_say_why_on_the_page_and_change_nothing(
    browser: Browser, console: Platform
) -> None:
    admin = await signed_in(browser, console, await add_user(console, "z@acme.test", "ORG_ADMIN"))
    await add_user(console, "other@globex.test", "ORG_ADMIN", org="globex")
    await admin.goto("/settings/integrations")
    csrf = await admin.locator("input[name=csrf_token]").first.input_value()

    async def post(path: str) -> tuple[int, str]:
        response = await admin.request.post(path, form={"csrf_token": csrf})
        return response.status, await response.text()

    themselves = await post("/settings/users/z%40acme.test/remove")
    foreign = await post("/settings/users/other%40globex.test/remove")
    no_such = await post("/settings/connections/no-such/delete")

    assert themselves[0] == 422 and "you cannot remove yourself" in themselves[1]
    assert foreign[0] == 422 and "other@globex.test has no account in this org" in foreign[1]
    assert no_such[0] == 422 and "no-such" in no_such[1]
    users = UserService(console.db)
    assert await users.authenticate("z@acme.test", USER_PASSWORD) is not None
    assert await users.authenticate("other@globex.test", USER_PASSWORD) is not None


async def test_only_an_admin_removes_anyone(browser: Browser, console: Platform) -> None:
    await add_user(console, "v@acme.test", "VIEWER")
    lead = await signed_in(browser, console, await add_user(console, "w@acme.test", "SRE_LEAD"))
    await lead.goto("/approvals")
    csrf = await lead.locator("input[name=csrf_token]").first.input_value()

    response = await lead.request.post(
        "/settings/users/v%40acme.test/remove", form={"csrf_token": csrf}
    )

    assert response.status == 404
    assert await UserService(console.db).authenticate("v@acme.test", USER_PASSWORD) is not None


async def test_a_forged_over_long_value_gets_the_refused_page_and_adds_nobody(
    browser: Browser, console: Platform
) -> None:
    admin = await signed_in(browser, console, await add_user(console, "f@acme.test", "ORG_ADMIN"))
    await admin.goto("/settings/integrations")
    csrf = await admin.locator("input[name=csrf_token]").first.input_value()
    email = "x" * 1100 + "@acme.test"  # the form's input would not take it

    response = await admin.request.post(
        "/settings/users", form={"csrf_token": csrf, "email": email, "role": "VIEWER"}
    )

    assert response.status == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "The form was refused: email: String should have at most 1024 characters" in (
        await response.text()
    )
    listed = await UserService(console.db).list(org_id="acme")
    assert [user.email for user in listed] == ["f@acme.test"]
    api = await console.http.post("/v1/connections", json={}, headers=console.auth())
    assert api.status_code == 422 and ["body", "name"] in [p["loc"] for p in api.json()["detail"]]
