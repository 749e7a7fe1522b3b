"""A 2xx means committed: kill the API process mid-burst and check every answered request.

The API runs as the real `fireline api` process; it is killed with SIGKILL while a burst
of ingests is in flight. Every request that got a 2xx must be in the database, and after
a restart every incident it created must have had its workflow started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from api.auth import issue_token
from services.dispatch import incident_run_id
from store import incidents
from store.db import Database
from tests.conftest import VENV_BIN
from tests.platform.harness import Platform, eventually, make_settings, write_workflow
from worker import build_worker

START_WORKFLOW = """
workflow:
  id: on-create
  triggers: [{type: incident, events: [created]}]
  steps:
    - name: record
      provider: {type: notify, with: {message: "{{ incident.title }}"}}
"""
JWT_SECRET = "crash-test-secret-long-enough-for-hs256"
BURST = 300


def _environment(settings: Any) -> dict[str, str]:
    return {
        **os.environ,
        "FIRELINE_DATA_DIR": str(settings.data_dir),
        "FIRELINE_WORKFLOWS_DIR": str(settings.workflows_dir),
        "FIRELINE_PROVIDERS_FILE": str(settings.providers_file),
        "FIRELINE_TEMPORAL_ADDRESS": settings.resolved_temporal_address,
        "FIRELINE_TASK_QUEUE": settings.task_queue,
        "FIRELINE_API_PORT": str(settings.api_port),
        "FIRELINE_JWT_SECRET": JWT_SECRET,
        "FIRELINE_INGEST_RATE": "100000",
        "FIRELINE_INGEST_BURST": "100000",
        "FIRELINE_DISPATCH_POLL_SECONDS": "0.2",
        "FIRELINE_LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def api_process(settings: Any) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [str(VENV_BIN / "fireline"), "api"],
        env=_environment(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


async def _wait_healthy(http: httpx.AsyncClient) -> None:
    async def healthy() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return (await http.get("/healthz")).status_code == 200
        return False

    await eventually(healthy, timeout=60)


def _body(number: int) -> dict[str, Any]:
    return {
        "sourceType": "CUSTOM",
        "sourceRef": f"burst-{number}",
        "title": f"Burst incident {number}",
        "severity": "high",
        "timeline": {"start": "2026-11-23T10:00:00Z"},
    }


async def _burst(http: httpx.AsyncClient, token: str, process: Any) -> dict[int, str]:
    """Send BURST ingests 20 at a time; kill the API after a third were answered."""
    answered: dict[int, str] = {}
    gate = asyncio.Semaphore(20)
    headers = {"Authorization": f"Bearer {token}"}

    async def send(number: int) -> None:
        async with gate:
            with contextlib.suppress(httpx.HTTPError):
                response = await http.post(
                    "/v1/incidents/ingest", json=_body(number), headers=headers
                )
                if 200 <= response.status_code < 300:
                    answered[number] = response.json()["incidentId"]
                if len(answered) >= BURST // 3 and process.poll() is None:
                    process.send_signal(signal.SIGKILL)

    await asyncio.gather(*(send(number) for number in range(BURST)))
    return answered


async def test_every_answered_ingest_survives_a_killed_api_and_is_dispatched(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    write_workflow(workflows, "on-create", START_WORKFLOW)
    settings = make_settings(tmp_path, temporal_env, workflows, {})
    token = issue_token(JWT_SECRET, org="acme", roles=["ANALYST"], sub="burst")
    base_url = f"http://127.0.0.1:{settings.api_port}"

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        with api_process(settings) as process:
            await _wait_healthy(http)
            answered = await _burst(http, token, process)
            process.wait()
        assert BURST // 3 <= len(answered) < BURST, "the kill must land mid-burst"

        db = Database(settings.resolved_database_url)
        try:
            async with db.read_session() as session:
                for incident_id in answered.values():
                    snapshot = await incidents.get_snapshot(session, "acme", incident_id)
                    assert snapshot.status == "OPEN"

            # Restart the API and run a worker: every answered incident gets its run.
            with api_process(settings):
                await _wait_healthy(http)
                async with build_worker(temporal_env.client, db, settings):
                    platform_client = Platform(settings, temporal_env.client, http, db)
                    for incident_id in answered.values():
                        run_id = incident_run_id("acme", incident_id, "on-create", 1)
                        await eventually(lambda run_id=run_id: platform_client.run_exists(run_id))
        finally:
            await db.dispose()
