"""Interval triggers run as Temporal Schedules that follow reloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from services.schedules import schedule_id
from tests.platform.harness import (
    Platform,
    eventually,
    make_settings,
    running_platform,
    write_workflow,
)

HEARTBEAT = """
workflow:
  id: heartbeat
  triggers: [{type: interval, every: 1s}]
  steps:
    - name: beat
      provider: {type: notify, with: {message: "VERSION"}}
"""


async def _schedule_exists(platform: Platform, sid: str) -> bool:
    try:
        await platform.client.get_schedule_handle(sid).describe()
    except RPCError:
        return False
    return True


async def test_interval_workflow_runs_on_a_schedule_that_follows_reloads(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    write_workflow(workflows, "heartbeat", HEARTBEAT.replace("VERSION", "beat one"))
    settings = make_settings(tmp_path, temporal_env, workflows, {})
    settings.schedule_orgs = ["acme", "globex"]
    async with running_platform(settings, temporal_env) as platform:
        sid = schedule_id("acme", "heartbeat")
        await eventually(lambda: _schedule_exists(platform, sid))
        beats: Any = await eventually(lambda: _at_least(platform, "acme", "beat one", 2))
        assert set(beats) == {"beat one"}
        assert "beat one" in await eventually(lambda: platform.messages("globex"))

        write_workflow(workflows, "heartbeat", HEARTBEAT.replace("VERSION", "beat two"))
        await platform.http.post("/v1/workflows/reload", headers=platform.auth())
        await eventually(lambda: _at_least(platform, "acme", "beat two", 1))

        (workflows / "heartbeat.yaml").unlink()
        await platform.http.post("/v1/workflows/reload", headers=platform.auth())
        assert not await _schedule_exists(platform, sid)
        assert not await _schedule_exists(platform, schedule_id("globex", "heartbeat"))


async def _at_least(platform: Platform, org: str, message: str, count: int) -> list[str]:
    messages = await platform.messages(org)
    return messages if messages.count(message) >= count else []
