from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import REPO
from tests.fakes.jira_server import FakeJira
from tests.platform.harness import Platform, make_settings, running_platform

JIRA_USER = FakeJira.USER
JIRA_TOKEN = FakeJira.API_TOKEN  # the secret the tests scan history and responses for


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    with FakeJira() as jira:
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
