"""A real Chromium, driven by Playwright, against the real platform."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    async_playwright,
)
from temporalio.testing import WorkflowEnvironment

from services.users import UserService
from tests.conftest import REPO
from tests.fakes.jira_server import FakeJira
from tests.platform.harness import Platform, make_settings, running_platform

CHROMIUM = Path(os.environ.get("FIRELINE_TEST_CHROMIUM", "/usr/lib/chromium/chromium"))
INSTALL = "apt-get install -y --no-install-recommends chromium fonts-liberation"
PASSWORD = "correct-horse-battery-42"
ACME_PROJECTS = ("OPS", "SUPPORT", "ENGINEERING", "INFRASTRUCTURE")


@pytest.fixture
async def browser(console: Platform) -> AsyncIterator[Browser]:
    """Closed before the platform stops: an open live stream would hold the server up."""
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def jira_browser(console_with_jira: Platform) -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Chromium at {CHROMIUM}: {INSTALL}")
        pytest.skip(f"no Chromium at {CHROMIUM}: {INSTALL}")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        await launched.close()


@pytest.fixture
async def console(tmp_path: Path, temporal_env: WorkflowEnvironment) -> AsyncIterator[Platform]:
    workflows = tmp_path / "yaml_workflows"
    shutil.copytree(REPO / "yaml_workflows", workflows)
    settings = make_settings(tmp_path, temporal_env, workflows, {}, triage=True)
    async with running_platform(settings, temporal_env) as running:
        yield running


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    """With the projects of the form-schema document's ACME form."""
    with FakeJira(projects={key: () for key in ACME_PROJECTS}) as jira:
        yield jira


@pytest.fixture
async def console_with_jira(
    tmp_path: Path, temporal_env: WorkflowEnvironment, fake_jira: FakeJira
) -> AsyncIterator[Platform]:
    """The console with the shipped Jira workflow able to open tickets in a fake Jira."""
    workflows = tmp_path / "yaml_workflows"
    shutil.copytree(REPO / "yaml_workflows", workflows)
    auth = {"url": fake_jira.url, "email": FakeJira.USER, "api_token": FakeJira.API_TOKEN}
    providers = {"jira": {"type": "jira", "authentication": auth}}
    settings = make_settings(tmp_path, temporal_env, workflows, providers)
    async with running_platform(settings, temporal_env) as running:
        yield running


def base_url(platform: Platform) -> str:
    return f"http://127.0.0.1:{platform.settings.api_port}"


async def add_user(platform: Platform, email: str, role: str, org: str = "acme") -> str:
    await UserService(platform.db).add(org_id=org, email=email, role=role, password=PASSWORD)
    return email


async def signed_in(
    browser: Browser, platform: Platform, email: str, viewport: ViewportSize | None = None
) -> Page:
    context: BrowserContext = await browser.new_context(
        base_url=base_url(platform), viewport=viewport
    )
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/")
    return page


def screenshots(tmp_path: Path) -> Path:
    """Where a test saves its screenshots: FIRELINE_SCREENSHOTS=docs/images refreshes the
    committed ones; else they go to the test's tmp directory."""
    chosen = os.environ.get("FIRELINE_SCREENSHOTS")
    return Path(chosen) if chosen else tmp_path
