"""Approval latency and the memory of waiting sessions: `python -m bench.approval`.

On the embedded platform (the real `fireline api` and `fireline worker` processes,
SQLite, a Temporal dev server), beside a hand-written Temporal gate (bench/gate_baseline:
one Update, then one activity) run by its own worker process in the same run:

- latency: N sessions wait for approval of a step that runs `date +%s.%N`; each is
  approved over HTTP (`POST /v1/sessions/{id}/steps/stamp/approve`), twice over: back to
  back (each approval as soon as the previous call returned, while the previous session
  still runs its step and records its outcome), then one at a time (each once the
  previous session has ended). Reported: the approve call's round trip, and from the call
  returning (and from it being sent) to the step's command starting, p50/p99, and the CPU
  time each process used per approval until its workflow ended (bench/cpu.py). The
  baseline's figures are the same for a bare `execute_update` and its activity starting.
- memory: the resident memory of each worker process before and after M more workflows
  wait (sessions waiting for approval; baseline gates waiting for their Update).

Prints both sides and the ratios. The machine is shared: read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from temporalio.client import Client, WorkflowHandle

from api.auth import issue_token
from bench import cpu
from bench.gate_baseline import APPROVE, WORKFLOW
from bench.processes import (
    BIN,
    JWT_SECRET,
    fireline_env,
    free_port,
    leave,
    percentile,
    poll_until,
    rss_bytes,
    running,
    start_temporal,
    wait_until_quiet,
    wait_up,
)

ORG = "bench"
RUNBOOK = """
runbook:
  id: bench-approval
  name: Bench approval gate
  approval: {roles: [SRE_LEAD], timeout: 2h}
  steps:
    - name: stamp
      run: date +%s.%N
      connector: local
      requires_approval: true
"""
STARTERS = 8  # concurrent session starts
MODES = (False, True)  # approvals back to back, then one at a time (spaced)


@dataclass
class Latencies:
    name: str
    round_trip: list[float]  # the approve call itself
    after_return: list[float]  # call returned -> next activity started
    after_send: list[float]  # call sent -> next activity started
    cpu: cpu.CpuUse  # by process, per approval, until its workflow ended

    def line(self, label: str, values: list[float]) -> str:
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        return f"  {label:<34} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms"


class FirelineApi:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.requester = _auth("bench-requester", "ORG_ADMIN")
        self.approver = _auth("bench-approver", "SRE_LEAD")

    async def incident(self) -> str:
        body = {"title": "Bench: checkout down", "severity": "SEV2", "service": "checkout"}
        response = await self.http.post("/v1/incidents", json=body, headers=self.requester)
        response.raise_for_status()
        return str(response.json()["id"])

    async def start_sessions(self, incident: str, count: int) -> list[str]:
        path = f"/v1/incidents/{incident}/runbooks/bench-approval/execute"

        async def start(_: int) -> str:
            response = await self.http.post(path, json={"inputs": {}}, headers=self.requester)
            response.raise_for_status()
            return str(response.json()["session_id"])

        return await _bounded(start, count)

    async def approve(self, session_id: str) -> tuple[float, float]:
        path = f"/v1/sessions/{quote(session_id, safe=':')}/steps/stamp/approve"
        sent = time.time()
        response = await self.http.post(path, json={}, headers=self.approver)
        returned = time.time()
        response.raise_for_status()
        return sent, returned


def _auth(sub: str, role: str) -> dict[str, str]:
    token = issue_token(JWT_SECRET, org=ORG, roles=[role], sub=sub)
    return {"Authorization": f"Bearer {token}"}


async def _bounded(work: Callable[[int], Awaitable[str]], count: int) -> list[str]:
    numbers = iter(range(count))
    results: list[str] = []

    async def loop() -> None:
        for number in numbers:
            results.append(await work(number))

    await asyncio.gather(*(loop() for _ in range(STARTERS)))
    return results


async def _wait_count(client: Client, query: str, count: int) -> None:
    async def reached() -> bool:
        return (await client.count_workflows(query)).count >= count

    await poll_until(reached, 0.2)


def _waiting_sessions() -> str:
    return (
        f"FirelineOrg = '{ORG}' AND FirelineSessionStatus = 'waiting_approval' "
        "AND ExecutionStatus = 'Running'"
    )


async def fireline_latency(
    api: FirelineApi, client: Client, incident: str, n: int, *, spaced: bool, roles: cpu.Classifier
) -> Latencies:
    sessions = await api.start_sessions(incident, n)
    await _wait_count(client, _waiting_sessions(), n)
    await wait_until_quiet()  # the starts' notifications and upserts are done
    calls, stamps = [], []
    before = cpu.snapshot(roles)
    for session in sessions:
        calls.append(await api.approve(session))
        if spaced:  # the next approval waits until this session has ended
            stamps.append(await _stamp(client, session))
    if not spaced:
        stamps = [await _stamp(client, session) for session in sessions]
    used = cpu.used_between(before, cpu.snapshot(roles), n)
    return _latencies(f"fireline HTTP approve, {_mode(spaced)}", calls, stamps, used)


async def _stamp(client: Client, session_id: str) -> float:
    """When the approved step's command ran, from the session's result once it ended."""
    state = await client.get_workflow_handle(session_id).result()
    step = next(s for s in state["steps"] if s["name"] == "stamp")
    if step["status"] != "succeeded":
        raise RuntimeError(f"session {session_id} ended {state['status']}: {state}")
    return float(step["output_tail"].strip())


def _mode(spaced: bool) -> str:
    return "one at a time" if spaced else "back to back"


async def baseline_gates(client: Client, queue: str, count: int) -> list[WorkflowHandle[Any, Any]]:
    handles = [
        await client.start_workflow(WORKFLOW, id=f"gate-{uuid.uuid4().hex}", task_queue=queue)
        for _ in range(count)
    ]
    for handle in handles:
        await poll_until(functools.partial(_waiting, handle), 0.05)
    return handles


async def _waiting(handle: WorkflowHandle[Any, Any]) -> bool:
    """Its first workflow task ran: it now waits for the Update."""
    description = await handle.describe()
    return description.raw_description.workflow_execution_info.history_length >= 4


async def baseline_latency(
    client: Client, queue: str, n: int, *, spaced: bool, roles: cpu.Classifier
) -> Latencies:
    handles = await baseline_gates(client, queue, n)
    await wait_until_quiet()  # and so are the last side's sessions
    calls = []
    before = cpu.snapshot(roles)
    for handle in handles:
        sent = time.time()
        await handle.execute_update(APPROVE)
        calls.append((sent, time.time()))
        if spaced:
            await handle.result()
    stamps = [float(await handle.result()) for handle in handles]
    used = cpu.used_between(before, cpu.snapshot(roles), n)
    return _latencies(f"hand-written Temporal Update, {_mode(spaced)}", calls, stamps, used)


def _latencies(
    name: str, calls: list[tuple[float, float]], stamps: list[float], used: cpu.CpuUse
) -> Latencies:
    return Latencies(
        name,
        round_trip=[returned - sent for sent, returned in calls],
        after_return=[stamp - returned for (_, returned), stamp in zip(calls, stamps, strict=True)],
        after_send=[stamp - sent for (sent, _), stamp in zip(calls, stamps, strict=True)],
        cpu=used,
    )


async def main(latency_runs: int, waiting: int) -> None:
    env = await start_temporal()
    client = env.client
    address = client.service_client.config.target_host
    api_port, baseline_queue = free_port(), f"bench-gate-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        variables = fireline_env(Path(tmp), address, api_port, {"bench.yaml": RUNBOOK})
        fireline = [str(BIN / "fireline")]
        baseline = [sys.executable, "-m", "bench.gate_baseline", address, baseline_queue]
        with (
            running([*fireline, "api"], variables) as api_process,
            running([*fireline, "worker"], variables) as worker,
            running(baseline, variables) as gate_worker,
        ):
            named = {api_process.pid: "api", worker.pid: "worker", gate_worker.pid: "gate"}
            roles = cpu.roles(named)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{api_port}", timeout=60
            ) as http:
                await wait_up(http, "/healthz")
                api = FirelineApi(http)
                incident = await api.incident()
                pairs = []
                for spaced in MODES:
                    print(f"latency: {latency_runs} approvals per side, {_mode(spaced)} ...")
                    ours = await fireline_latency(
                        api, client, incident, latency_runs, spaced=spaced, roles=roles
                    )
                    theirs = await baseline_latency(
                        client, baseline_queue, latency_runs, spaced=spaced, roles=roles
                    )
                    pairs.append((ours, theirs))
                print(f"memory: {waiting} waiting workflows per side ...", flush=True)
                memory = await _memory(api, client, incident, worker.pid, waiting)
                base_memory = await _baseline_memory(
                    client, baseline_queue, gate_worker.pid, waiting
                )
    await env.shutdown()
    _report(pairs, memory, base_memory, waiting)


async def _memory(api: FirelineApi, client: Client, incident: str, pid: int, n: int) -> int:
    before = rss_bytes(pid)
    await api.start_sessions(incident, n)
    await _wait_count(client, _waiting_sessions(), n)
    return rss_bytes(pid) - before


async def _baseline_memory(client: Client, queue: str, pid: int, n: int) -> int:
    before = rss_bytes(pid)
    await baseline_gates(client, queue, n)
    return rss_bytes(pid) - before


def _report(
    pairs: list[tuple[Latencies, Latencies]], memory: int, base_memory: int, waiting: int
) -> None:
    for ours, theirs in pairs:
        for side in (ours, theirs):
            print(side.name)
            print(side.line("approve call round trip", side.round_trip))
            print(side.line("call returned -> activity started", side.after_return))
            print(side.line("call sent -> activity started", side.after_send))
            print(f"  {side.cpu.line()}")
    for spaced, (ours, theirs) in zip(MODES, pairs, strict=True):
        mode = _mode(spaced)
        for label, values in (("round trip", "round_trip"), ("sent -> started", "after_send")):
            mine, base = getattr(ours, values), getattr(theirs, values)
            print(
                f"ratio {label}, {mode}: p50 {percentile(mine, 0.5) / percentile(base, 0.5):.1f}x"
                f"   p99 {percentile(mine, 0.99) / percentile(base, 0.99):.1f}x"
            )
    mib = 1024 * 1024
    print(
        f"worker memory for {waiting} waiting: fireline +{memory / mib:.1f} MiB "
        f"({memory / waiting / 1024:.1f} KiB each), baseline +{base_memory / mib:.1f} MiB "
        f"({base_memory / waiting / 1024:.1f} KiB each), ratio "
        f"{memory / max(base_memory, 1):.1f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--approvals", type=int, default=200)
    parser.add_argument("-w", "--waiting", type=int, default=1000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.approvals, arguments.waiting))
    leave()
