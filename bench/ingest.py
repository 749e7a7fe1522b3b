"""Ingest throughput and latency: `python -m bench.ingest [-n N] [-c CONCURRENCY]`.

Measures `POST /v1/incidents/ingest` (the real `fireline api` and `fireline worker`
processes, a Temporal dev server; every request creates a new incident, so each one
commits events and outbox rows and starts a workflow) beside a minimal FastAPI endpoint
that only parses the same body (bench/parse_only.py), alternating rounds: on SQLite (the
embedded default), then on PostgreSQL in the same run when FIRELINE_TEST_POSTGRES_URL
names a server (a database of its own, dropped afterwards). Prints requests/s, p50 and
p99 of both, the CPU time per request of each process (bench/cpu.py: the API, the worker,
the Temporal server, PostgreSQL, the load generator) with the throughput the machine's
cores would allow at that cost, and the throughput ratios last. The per-org rate limit is
raised for the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from api.auth import issue_token
from bench import cpu
from bench.processes import (
    BIN,
    JWT_SECRET,
    fireline_env,
    free_port,
    leave,
    percentile,
    postgres_server_url,
    running,
    start_temporal,
    wait_until_quiet,
    wait_up,
)
from bench.soak_cluster import fresh_database

ON_CREATE = """
workflow:
  id: on-create
  triggers: [{type: incident, events: [created]}]
  steps:
    - name: record
      provider: {type: notify, with: {message: "{{ incident.title }}"}}
"""


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float]
    failures: int
    cpu: cpu.CpuUse

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


def _body(run: str, number: int) -> dict[str, Any]:
    return {
        "sourceType": "CUSTOM",
        "sourceRef": f"{run}-{number}",
        "title": f"Checkout latency {number}",
        "severity": "high",
        "timeline": {"start": "2026-11-23T10:00:00Z"},
        "metadata": {"service": "checkout", "environment": "prod", "tags": ["bench"]},
        "evidenceLite": {"metrics": [{"name": "p99_ms", "value": 950.0}]},
    }


async def _load(
    name: str,
    url: str,
    headers: dict[str, str],
    count: int,
    width: int,
    roles: cpu.Classifier,
) -> Result:
    run = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    failures = 0
    queue = iter(range(count))

    async def client_loop(http: httpx.AsyncClient) -> None:
        nonlocal failures
        for number in queue:
            started = time.perf_counter()
            response = await http.post("/v1/incidents/ingest", json=_body(run, number))
            if response.status_code == 201:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
        before = cpu.snapshot(roles)
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(http) for _ in range(width)))
        seconds = time.perf_counter() - started
        after = cpu.snapshot(roles)
    return Result(name, seconds, latencies, failures, cpu.used_between(before, after, count))


def _merge(results: list[Result]) -> Result:
    return Result(
        results[0].name,
        sum(r.seconds for r in results),
        [latency for r in results for latency in r.latencies],
        sum(r.failures for r in results),
        cpu.merged([r.cpu for r in results]),
    )


def _report(fireline: Result, baseline: Result) -> None:
    cores = os.cpu_count() or 1
    for result in (fireline, baseline):
        print(
            f"{result.name:<28} {result.rate:8.1f} req/s   p50 {result.percentile(0.5):7.1f} ms"
            f"   p99 {result.percentile(0.99):7.1f} ms   failures {result.failures}"
        )
        print(
            f"  {result.cpu.line()}: at most {result.cpu.ceiling(cores):.0f} req/s on {cores} cores"
        )
    print(
        "p50 ratio: "
        f"{fireline.percentile(0.5) / baseline.percentile(0.5):.1f}x   p99 ratio: "
        f"{fireline.percentile(0.99) / baseline.percentile(0.99):.1f}x"
    )


async def main(count: int, width: int, rounds: int) -> None:
    env = await start_temporal()
    results: list[tuple[str, Result, Result]] = []
    server_url = postgres_server_url()
    with tempfile.TemporaryDirectory() as tmp:
        results.append(
            ("SQLite", *await _measure(env, Path(tmp) / "sqlite", {}, count, width, rounds))
        )
        if server_url is not None:
            async with fresh_database(server_url) as database_url:
                postgres = {"FIRELINE_DATABASE_URL": database_url}
                folder = Path(tmp) / "postgres"
                results.append(
                    ("PostgreSQL", *await _measure(env, folder, postgres, count, width, rounds))
                )
    await env.shutdown()
    print(f"{count} requests x {rounds} rounds per side, {width} concurrent clients")
    for name, fireline, baseline in results:
        print(f"-- {name}")
        _report(fireline, baseline)
    if server_url is None:
        print("PostgreSQL not measured: set FIRELINE_TEST_POSTGRES_URL to a server")
    for name, fireline, baseline in results:
        print(f"ratio {name}: {fireline.rate / baseline.rate:.2f}x the parse-only throughput")


async def _measure(
    env: WorkflowEnvironment,
    folder: Path,
    store: dict[str, str],
    count: int,
    width: int,
    rounds: int,
) -> tuple[Result, Result]:
    api_port, parse_port = free_port(), free_port()
    token = issue_token(JWT_SECRET, org="bench", roles=["ANALYST"], sub="bench")
    auth = {"Authorization": f"Bearer {token}"}
    variables = fireline_env(
        folder,
        env.client.service_client.config.target_host,
        api_port,
        {"on-create.yaml": ON_CREATE},
        FIRELINE_INGEST_RATE="1000000",
        FIRELINE_INGEST_BURST="1000000",
        **store,
    )
    with (
        running([str(BIN / "fireline"), "api"], variables) as api,
        running([str(BIN / "fireline"), "worker"], variables) as worker,
        running([sys.executable, "-m", "bench.parse_only", str(parse_port)], variables) as parse,
    ):
        api_url, parse_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{parse_port}"
        async with httpx.AsyncClient(base_url=api_url) as http:
            await wait_up(http, "/healthz")
        async with httpx.AsyncClient(base_url=parse_url) as http:
            await wait_up(http, "/docs")
        roles = cpu.roles({api.pid: "api", worker.pid: "worker", parse.pid: "parse-only"})
        await _load("warm-up", api_url, auth, width * 5, width, roles)
        fireline, baseline = [], []
        for _ in range(rounds):
            # Each side starts on a quiet machine: an ingest round leaves its workflows
            # to start and run, which used to slow the next parse-only round down.
            await wait_until_quiet()
            baseline.append(await _load("parse-only FastAPI", parse_url, {}, count, width, roles))
            await wait_until_quiet()
            fireline.append(await _load("fireline ingest", api_url, auth, count, width, roles))
    return _merge(fireline), _merge(baseline)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--count", type=int, default=500, help="requests per round")
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("-r", "--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.count, arguments.concurrency, arguments.rounds))
    leave()
