"""Soak with faults: `python -m bench.soak` (`make soak`); `--short` is the form CI runs.

Starts the production shape on this machine (bench/soak_cluster.py: PostgreSQL, 2 API
replicas, 3 workers, a Temporal dev server, a fake Jira), then:

1. throughput: incidents through the ingestion endpoint with 1, 2 and 3 workers running,
   each until every incident's ticket workflow completed (incidents/s, end to end);
2. the soak: incidents are delivered (each twice, at once, to both replicas; half through
   the Alertmanager webhook, half through the ingestion endpoint) and runbook
   sessions started and approved while a fault loop SIGKILLs a random API replica or
   worker every few seconds and starts it again, and restarts PostgreSQL once;
3. the checks (bench/soak_checks.py): every acknowledged delivery's incident exists
   exactly once, with one `created` event, one workflow run recorded and in Temporal, one
   Jira ticket and one notification; every session ended as its script implies, with its
   commands and rollbacks run in order.

Needs a PostgreSQL server: FIRELINE_SOAK_POSTGRES_URL, else FIRELINE_TEST_POSTGRES_URL
(each run makes a database of its own and drops it). Exits 1 if a check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.processes import leave, postgres_server_url
from bench.soak_checks import Findings, check
from bench.soak_cluster import Cluster, restart_postgres, running_cluster
from bench.soak_load import (
    RUNBOOK,
    TICKET_WORKFLOW,
    Delivery,
    Replicas,
    deliver_incidents,
    run_sessions,
)

UNDISPATCHED = text("SELECT count(*) FROM outbox WHERE dispatched_at IS NULL")


@dataclass(frozen=True)
class SoakSize:
    incidents: int
    sessions: int
    throughput_incidents: int  # per worker count
    fault_every: float  # seconds between kills
    spread: float  # seconds the deliveries under faults are paced over
    settle_timeout: float = 900.0
    restart_postgres: bool = True


FULL = SoakSize(
    incidents=1000, sessions=50, throughput_incidents=300, fault_every=4.0, spread=240.0
)
SHORT = SoakSize(incidents=60, sessions=6, throughput_incidents=40, fault_every=3.0, spread=30.0)


@dataclass
class SoakReport:
    size: SoakSize
    throughput: dict[int, float] = field(default_factory=dict)  # workers -> incidents/s
    faults: list[str] = field(default_factory=list)
    retries: int = 0
    findings: Findings = field(default_factory=Findings)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        cores = os.cpu_count()
        table = [f"  {w} worker(s): {rate:6.1f} incidents/s" for w, rate in self.throughput.items()]
        kills = sum(1 for fault in self.faults if fault.startswith("kill"))
        return [
            f"throughput on {cores} cores, 2 API replicas, PostgreSQL "
            "(incident ingested -> Jira ticket -> written back -> notification):",
            *table,
            f"faults: {kills} processes killed, {len(self.faults) - kills} other "
            f"({'; '.join(f for f in self.faults if not f.startswith('kill'))})",
            f"client retries after a dead replica or a 5xx: {self.retries}",
            *(f"checked {line}" for line in self.findings.counted),
            f"violations: {len(self.findings.violations)}",
            *(f"  VIOLATION {v}" for v in self.findings.violations),
            f"soak took {self.seconds:.0f} s",
        ]


async def soak(
    size: SoakSize, server_url: str, folder: Path, say: Callable[[str], None]
) -> SoakReport:
    report = SoakReport(size)
    started = time.monotonic()
    definitions = {"soak-ticket.yaml": TICKET_WORKFLOW, "soak-session.yaml": RUNBOOK}
    async with running_cluster(folder, server_url, definitions) as cluster:
        client = await Client.connect(
            cluster.temporal_address, data_converter=pydantic_data_converter
        )
        async with httpx.AsyncClient(timeout=60) as http:
            replicas = Replicas(cluster.api_urls, http)
            deliveries: list[Delivery] = []
            for workers in (1, 2, 3):
                say(f"throughput with {workers} worker(s) ...")
                started_at = time.monotonic()
                deliveries += await _with_workers(
                    cluster, replicas, workers, size.throughput_incidents
                )
                await _settled(client, cluster, size.settle_timeout)
                report.throughput[workers] = size.throughput_incidents / (
                    time.monotonic() - started_at
                )
            say(f"soak: {size.incidents} incidents, {size.sessions} sessions under faults ...")
            for_sessions = await deliver_incidents(replicas, size.sessions)
            await _settled(client, cluster, size.settle_timeout)
            ids = [d.incident_id for d in for_sessions if d.incident_id]
            replicas.retries = 0
            stop = asyncio.Event()
            faults = asyncio.create_task(_fault_loop(cluster, stop, size, report.faults))
            under_faults, sessions = await asyncio.gather(
                deliver_incidents(replicas, size.incidents, spread=size.spread),
                run_sessions(replicas, ids, folder),
            )
            stop.set()
            await faults
            say("settling ...")
            await _settled(client, cluster, size.settle_timeout)
            report.retries = replicas.retries
            everything = deliveries + for_sessions + under_faults
            report.findings = await check(cluster, replicas, client, everything, sessions)
    report.seconds = time.monotonic() - started
    return report


async def _with_workers(
    cluster: Cluster, replicas: Replicas, workers: int, count: int
) -> list[Delivery]:
    """Deliver `count` incidents with only the first `workers` workers running."""
    for n, worker in enumerate(cluster.workers):
        if n < workers and not worker.running:
            worker.start()
        elif n >= workers:
            worker.stop()
    return await deliver_incidents(replicas, count)


async def _settled(client: Client, cluster: Cluster, limit: float) -> None:
    """Every workflow on the task queue ended, and every outbox row was dispatched."""
    query = f"TaskQueue = '{cluster.task_queue}' AND ExecutionStatus = 'Running'"
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        running = (await client.count_workflows(query)).count
        async with cluster.engine.connect() as connection:
            pending = (await connection.execute(UNDISPATCHED)).scalar_one()
        if running == 0 and pending == 0:
            return
        await asyncio.sleep(0.5)


async def _fault_loop(
    cluster: Cluster, stop: asyncio.Event, size: SoakSize, log: list[str]
) -> None:
    """Kill a random API replica or worker every few seconds and start it again a moment
    later; restart PostgreSQL once, a few kills in."""
    rng = random.Random()
    kills = 0
    while not stop.is_set():
        await asyncio.sleep(size.fault_every)
        if stop.is_set():
            break
        victim = rng.choice(cluster.processes)
        victim.kill()
        kills += 1
        log.append(f"kill -9 {victim.name}")
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        victim.start()
        if kills == 3 and size.restart_postgres:
            reason = await restart_postgres()
            log.append(
                "PostgreSQL restarted" if reason is None else f"PostgreSQL not restarted: {reason}"
            )
    for process in cluster.processes:  # one that died by itself meanwhile
        if not process.running:
            process.start()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="CI's size: 60 incidents, 6 sessions")
    parser.add_argument(
        "--no-postgres-restart",
        action="store_true",
        help="leave PostgreSQL running (a server other work shares, or no root)",
    )
    arguments = parser.parse_args()
    server_url = postgres_server_url()
    if server_url is None:
        print(
            "set FIRELINE_SOAK_POSTGRES_URL (or FIRELINE_TEST_POSTGRES_URL) to a PostgreSQL server",
            file=sys.stderr,
        )
        return 2
    size = SHORT if arguments.short else FULL
    if arguments.no_postgres_restart:
        size = dataclasses.replace(size, restart_postgres=False)
    with tempfile.TemporaryDirectory(prefix="fireline-soak-") as folder:
        report = asyncio.run(
            soak(size, server_url, Path(folder), lambda line: print(line, flush=True))
        )
    print("\n".join(report.lines()))
    return 1 if report.findings.violations else 0


if __name__ == "__main__":
    leave(main())
