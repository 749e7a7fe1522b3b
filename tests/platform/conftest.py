from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import REPO
from tests.fakes.jira_server import FakeJira
from tests.platform.harness import Platform, make_settings, running_platform

JIRA_USER = "automation@example.com"
JIRA_TOKEN = "jira-secret-token-7f3a9c"  # noqa: S105 - a test secret we scan history for


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    with FakeJira(username=JIRA_USER, token=JIRA_TOKEN) as jira:
        yield jira


@pytest.fixture
def workflows_dir(tmp_path: Path) -> Path:
    target = tmp_path / "yaml_workflows"
    shutil.copytree(REPO / "yaml_workflows", target)
    return target


def jira_providers(jira: FakeJira) -> dict[str, object]:
    auth = {"url": jira.url, "email": JIRA_USER, "api_token": JIRA_TOKEN}
    return {"jira": {"type": "jira", "authentication": auth}}


@pytest.fixture
async def platform(
    tmp_path: Path, temporal_env: WorkflowEnvironment, fake_jira: FakeJira, workflows_dir: Path
) -> AsyncIterator[Platform]:
    settings = make_settings(tmp_path, temporal_env, workflows_dir, jira_providers(fake_jira))
    async with running_platform(settings, temporal_env) as running:
        yield running
