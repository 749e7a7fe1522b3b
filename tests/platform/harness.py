"""A whole Fireline in the test process: the real worker and the real API over HTTP.

Both talk to the session's Temporal dev server and a fresh SQLite file, exactly as
`fireline worker` and `fireline api` do; only the processes are shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import textwrap
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.auth import issue_token
from console.app import create_app
from core.settings import Settings
from store.db import Database
from worker import build_worker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Platform:
    settings: Settings
    client: Client
    http: httpx.AsyncClient
    db: Database

    def token(self, org: str = "acme", roles: tuple[str, ...] = ("ORG_ADMIN",)) -> str:
        return issue_token(
            self.settings.effective_jwt_secret(), org=org, roles=list(roles), sub=f"{org}-tester"
        )

    def auth(self, org: str = "acme", *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(org, roles or ('ORG_ADMIN',))}"}

    async def create_incident(self, org: str = "acme", **fields: Any) -> dict[str, Any]:
        body = {"title": "Checkout 5xx", "severity": "SEV2", **fields}
        response = await self.http.post("/v1/incidents", json=body, headers=self.auth(org))
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def incident(self, incident_id: str, org: str = "acme") -> dict[str, Any]:
        response = await self.http.get(f"/v1/incidents/{incident_id}", headers=self.auth(org))
        result: dict[str, Any] = response.json()
        return result

    async def notifications(self, org: str = "acme", **params: Any) -> list[dict[str, Any]]:
        response = await self.http.get("/v1/notifications", params=params, headers=self.auth(org))
        assert response.status_code == 200, response.text
        result: list[dict[str, Any]] = response.json()
        return result

    async def messages(self, org: str = "acme") -> list[str]:
        return [note["message"] for note in await self.notifications(org)]

    async def run_exists(self, run_id: str) -> bool:
        try:
            await self.client.get_workflow_handle(run_id).describe()
        except RPCError:
            return False
        return True

    async def finished_status(self, run_id: str) -> WorkflowExecutionStatus | None:
        """The run's final status; None while it is still running."""
        status = (await self.client.get_workflow_handle(run_id).describe()).status
        return None if status in (None, WorkflowExecutionStatus.RUNNING) else status

    async def failure_of(self, run_id: str) -> str:
        """Once the run has failed, every message of its failure chain, joined by " | "."""
        await eventually(lambda: self.run_exists(run_id))
        status = await eventually(lambda: self.finished_status(run_id), timeout=60)
        assert status == WorkflowExecutionStatus.FAILED, status
        try:
            await self.client.get_workflow_handle(run_id).result()
        except WorkflowFailureError as failure:
            return _messages(failure)
        raise AssertionError(f"{run_id} did not fail")


def write_workflow(directory: Path, name: str, body: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def write_providers(path: Path, providers: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(providers))
    return path


def make_settings(
    tmp_path: Path,
    env: WorkflowEnvironment,
    workflows_dir: Path,
    providers: dict[str, Any],
    *,
    triage: bool = False,
) -> Settings:
    """Triage is off unless asked for: the other tests watch their own workflows alone."""
    port = free_port()
    return Settings(
        data_dir=tmp_path / "data",
        workflows_dir=workflows_dir,
        providers_file=write_providers(tmp_path / "providers.yaml", providers),
        temporal_address=env.client.service_client.config.target_host,
        task_queue=f"fireline-test-{uuid.uuid4().hex[:8]}",
        api_port=port,
        dispatch_poll_seconds=0.2,
        triage_enabled=triage,
    )


@contextlib.asynccontextmanager
async def running_platform(settings: Settings, env: WorkflowEnvironment) -> AsyncIterator[Platform]:
    db = Database(settings.resolved_database_url)
    await db.migrate()
    worker = build_worker(env.client, db, settings)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=settings.api_port,
            log_level="warning",
            lifespan="on",
        )
    )
    async with worker:
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                await asyncio.sleep(0.05)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{settings.api_port}", timeout=30
            ) as http:
                await _wait_healthy(http)
                yield Platform(settings=settings, client=env.client, http=http, db=db)
        finally:
            server.should_exit = True
            await serving
            await db.dispose()


def _messages(error: BaseException | None) -> str:
    messages = []
    while error is not None:
        messages.append(str(error))
        error = getattr(error, "cause", None) or error.__cause__
    return " | ".join(messages)


async def _wait_healthy(http: httpx.AsyncClient) -> None:
    for _ in range(200):
        if (await http.get("/healthz")).status_code == 200:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the API never became healthy")


async def eventually(check: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll an async check until it returns a truthy value (no wall-clock assertions)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
