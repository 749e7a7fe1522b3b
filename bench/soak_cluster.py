"""The production shape on one machine, for bench/soak.py: PostgreSQL for Fireline, several
`fireline api` replicas and `fireline worker` processes, one Temporal dev server and a fake
Jira, with the settings docker-compose.yml gives its services. Any process can be killed
with SIGKILL and started again; PostgreSQL can be restarted."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from cryptography.fernet import Fernet
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from temporalio.testing import WorkflowEnvironment

from bench.processes import BIN, JWT_SECRET, free_port, start_temporal, wait_up
from tests.fakes.jira_server import FakeJira

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Process:
    """One `fireline api` or `fireline worker`, restartable under the same settings."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    kills: int = 0

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(self.args, env=self.env, stdout=log, stderr=log)

    def kill(self) -> None:
        """SIGKILL: no clean-up, no goodbye; in-flight work is whatever it was."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()
            self.kills += 1

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


@dataclass
class Cluster:
    apis: list[Process]
    workers: list[Process]
    api_urls: list[str]
    database_url: str
    jira: FakeJira
    temporal_address: str
    task_queue: str
    folder: Path
    engine: AsyncEngine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = create_async_engine(self.database_url, pool_pre_ping=True)

    @property
    def processes(self) -> list[Process]:
        return [*self.apis, *self.workers]

    async def wait_healthy(self) -> None:
        for url in self.api_urls:
            async with httpx.AsyncClient(base_url=url, timeout=5) as http:
                await wait_up(http, "/healthz")


async def restart_postgres() -> str | None:
    """Restart the local PostgreSQL cluster (Debian's pg_ctlcluster, as root); None when
    this machine cannot, with the reason returned instead."""
    if shutil.which("pg_lsclusters") is None or os.geteuid() != 0:
        return "no local PostgreSQL cluster this process may restart (needs root)"
    listing = await asyncio.to_thread(
        subprocess.run, ["pg_lsclusters", "--no-header"], capture_output=True, text=True
    )
    version, name = listing.stdout.split()[:2]
    restart = ["pg_ctlcluster", version, name, "restart"]
    await asyncio.to_thread(subprocess.run, restart, check=True, capture_output=True)
    return None


@contextlib.asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """A new, empty database on the server; dropped afterwards."""
    name = f"fireline_soak_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@contextlib.asynccontextmanager
async def running_cluster(
    folder: Path, server_url: str, definitions: dict[str, str], apis: int = 2, workers: int = 3
) -> AsyncIterator[Cluster]:
    env = await start_temporal()
    try:
        async with fresh_database(server_url) as database_url:
            with FakeJira() as jira:
                cluster = _cluster(folder, env, database_url, jira, definitions, apis, workers)
                for process in cluster.processes:
                    process.start()
                try:
                    await cluster.wait_healthy()
                    yield cluster
                finally:
                    for process in cluster.processes:
                        process.stop()
                    await cluster.engine.dispose()
    finally:
        await env.shutdown()


def _cluster(
    folder: Path,
    env: WorkflowEnvironment,
    database_url: str,
    jira: FakeJira,
    definitions: dict[str, str],
    apis: int,
    workers: int,
) -> Cluster:
    temporal = env.client.service_client.config.target_host
    settings = _settings(folder, database_url, temporal, jira, definitions)
    ports = [free_port() for _ in range(apis)]
    fireline = str(BIN / "fireline")
    api_processes = [
        Process(
            f"api-{n + 1}",
            [fireline, "api"],
            {**settings, "FIRELINE_API_PORT": str(port)},
            folder / f"api-{n + 1}.log",
        )
        for n, port in enumerate(ports)
    ]
    worker_processes = [
        Process(f"worker-{n + 1}", [fireline, "worker"], settings, folder / f"worker-{n + 1}.log")
        for n in range(workers)
    ]
    return Cluster(
        apis=api_processes,
        workers=worker_processes,
        api_urls=[f"http://127.0.0.1:{port}" for port in ports],
        database_url=database_url,
        jira=jira,
        temporal_address=temporal,
        task_queue=settings["FIRELINE_TASK_QUEUE"],
        folder=folder,
    )


def _settings(
    folder: Path, database_url: str, temporal: str, jira: FakeJira, definitions: dict[str, str]
) -> dict[str, str]:
    """What docker-compose.yml sets for both services, pointed at this machine."""
    workflows = folder / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    for name, body in definitions.items():
        (workflows / name).write_text(body)
    providers = folder / "providers.yaml"
    auth = {"url": jira.url, "email": FakeJira.USER, "api_token": FakeJira.API_TOKEN}
    providers.write_text(yaml.safe_dump({"jira": {"type": "jira", "authentication": auth}}))
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "FIRELINE_ENVIRONMENT": "production",
        "FIRELINE_DATABASE_URL": database_url,
        "FIRELINE_JWT_SECRET": JWT_SECRET,
        "FIRELINE_SECRET_KEY": Fernet.generate_key().decode(),
        "FIRELINE_PUBLIC_URL": "http://fireline.soak",
        "FIRELINE_TEMPORAL_ADDRESS": temporal,
        "FIRELINE_TEMPORAL_NAMESPACE": "default",
        "FIRELINE_TASK_QUEUE": f"soak-{uuid.uuid4().hex[:8]}",
        "FIRELINE_WORKFLOWS_DIR": str(workflows),
        "FIRELINE_PROVIDERS_FILE": str(providers),
        "FIRELINE_DATA_DIR": str(folder / "data"),
        "FIRELINE_LOG_LEVEL": "WARNING",
        "FIRELINE_INGEST_RATE": "1000000",
        "FIRELINE_INGEST_BURST": "1000000",
        "FIRELINE_TRIAGE_ENABLED": "false",
    }
