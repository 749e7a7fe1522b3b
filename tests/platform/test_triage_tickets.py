"""A false positive triage closes takes its external ticket with it, even when the ticket
is written back only after triage closed the incident."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.fakes.jira_server import FakeJira
from tests.platform.conftest import jira_providers
from tests.platform.harness import Platform, eventually, make_settings, running_platform


@pytest.fixture
async def platform(
    tmp_path: Path, temporal_env: WorkflowEnvironment, fake_jira: FakeJira, workflows_dir: Path
) -> AsyncIterator[Platform]:
    providers = jira_providers(fake_jira)
    settings = make_settings(tmp_path, temporal_env, workflows_dir, providers, triage=True)
    async with running_platform(settings, temporal_env) as running:
        yield running


async def test_a_closed_false_positive_closes_its_jira_ticket(
    platform: Platform, fake_jira: FakeJira
) -> None:
    # Jira refuses the first creates: the ticket is written back only after triage closed
    # the incident.
    fake_jira.fail_next(500, times=2, method="POST", path_contains="/issue")
    incident = await platform.create_incident(
        title="Synthetic check failed: checkout login journey",
        severity="SEV3",
        enrichments={"target_project": "OPS"},
    )

    async def ticket_done() -> Any:
        issues = fake_jira.issues
        return issues and issues[0].status == "Done"

    await eventually(ticket_done, timeout=60)
    closed = await platform.incident(incident["id"])
    assert closed["status"] == "RESOLVED"
    assert closed["triage_status"] == "closed_false_positive"
    [issue] = fake_jira.issues
    assert any(incident["id"] in comment for comment in issue.comments)
