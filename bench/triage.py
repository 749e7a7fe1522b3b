"""Triage's speed: `python -m bench.triage`.

1. Ranking: one incident against 1,000 runbooks (services/triage_match.py), p50/p99 over
   repeated runs (goal: under 50 ms), beside the keyword-only match over the same
   runbooks in the same run.
2. Accepted → decided: on the embedded platform (the real `fireline api` and `fireline
   worker`, SQLite, a Temporal dev server), incidents arrive at 5 per second through
   `/v1/incidents/ingest`; for each, the time from its 2xx to triage's decision (the
   analysis' `updated_at`, written by the decide or close stage). The baseline of the
   same run: a one-step YAML workflow on `created` (the same dispatcher, one activity),
   from the 2xx to its notification.

Prints the figures and the ratios last; exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from api.auth import issue_token
from bench.processes import (
    BIN,
    JWT_SECRET,
    fireline_env,
    free_port,
    leave,
    percentile,
    running,
    start_temporal,
    wait_up,
)
from dsl.runbook_plan import MatchPlan, RunbookPlan, RunbookStepPlan
from services.runbook_match import match_runbook
from services.triage_match import rank_runbooks

RATE = 5.0  # incidents per second
WORDS = ("disk", "cpu", "memory", "latency", "errors", "restart", "queue", "cache", "dns", "tls")
SERVICES = ("checkout", "payments", "search", "orders", "auth")
REPO = Path(__file__).resolve().parent.parent
ON_CREATE = """
workflow:
  id: on-create
  triggers: [{type: incident, events: [created]}]
  steps:
    - name: record
      provider: {type: notify, with: {message: "created {{ incident.id }}"}}
"""


def synthetic_runbooks(count: int) -> list[RunbookPlan]:
    plans = []
    for n in range(count):
        words = (WORDS[n % len(WORDS)], WORDS[(n * 7) % len(WORDS)], f"runbook{n}")
        step = RunbookStepPlan(name="fix", phase="step", run=f"echo fix {' '.join(words)}")
        plans.append(
            RunbookPlan(
                id=f"rb-{n}",
                name=f"Fix {words[0]} on {SERVICES[n % len(SERVICES)]}",
                description=f"When {words[0]} and {words[1]} go wrong",
                match=MatchPlan(keywords=words[:2], services=(SERVICES[n % len(SERVICES)],)),
                steps=(step,),
                plan_hash=f"bench-{n}",
            )
        )
    return plans


def time_ranking(count: int, repeats: int) -> tuple[list[float], list[float]]:
    plans = synthetic_runbooks(count)
    incident = {
        "title": "Disk usage above 95% on db-7, latency errors",
        "description": "checkout writes fail; restart did not help",
        "service": "checkout",
        "severity": "SEV2",
        "tags": ["tier:1"],
    }
    now = datetime.now(UTC)
    rank_runbooks(incident, plans, {}, now=now)  # the first call reads every runbook once
    ranked, keywords = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        rank_runbooks(incident, plans, {}, now=now)
        ranked.append(time.perf_counter() - start)
        start = time.perf_counter()
        sorted(plans, key=lambda p: -match_runbook(p.match, incident).confidence)
        keywords.append(time.perf_counter() - start)
    return ranked, keywords


async def accepted_to_decided(count: int) -> tuple[list[float], list[float]]:
    env = await start_temporal()
    port = free_port()
    token = issue_token(JWT_SECRET, org="bench", roles=["ORG_ADMIN"], sub="bench")
    headers = {"Authorization": f"Bearer {token}"}
    definitions = {"on-create.yaml": ON_CREATE}
    for name in ("triage.yaml", "restart-systemd-service.yaml", "clear-disk-space.yaml"):
        definitions[name] = (REPO / "yaml_workflows" / name).read_text()
    with tempfile.TemporaryDirectory() as tmp:
        variables = fireline_env(
            Path(tmp), env.client.service_client.config.target_host, port, definitions
        )
        with (
            running([str(BIN / "fireline"), "api"], variables),
            running([str(BIN / "fireline"), "worker"], variables),
        ):
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60
            ) as http:
                await wait_up(http, "/healthz")
                accepted = await _send(http, count)
                decided = await _decisions(http, accepted)
                notified = await _notifications(http, accepted)
    await env.shutdown()
    triage = [decided[i] - accepted[i] for i in accepted]
    baseline = [notified[i] - accepted[i] for i in accepted if i in notified]
    return triage, baseline


async def _send(http: httpx.AsyncClient, count: int) -> dict[str, float]:
    accepted: dict[str, float] = {}
    for n in range(count):
        started = time.monotonic()
        body = {
            "sourceType": "CUSTOM",
            "sourceRef": f"bench-{n}",
            "title": ["Disk usage above 95% on db-7", "checkout service down"][n % 2],
            "metadata": {"service": SERVICES[n % len(SERVICES)]},
            "timeline": {"start": datetime.now(UTC).isoformat()},
        }
        response = await http.post("/v1/incidents/ingest", json=body)
        response.raise_for_status()
        accepted[response.json()["incidentId"]] = time.time()
        await asyncio.sleep(max(0.0, 1 / RATE - (time.monotonic() - started)))
    return accepted


async def _decisions(http: httpx.AsyncClient, accepted: dict[str, float]) -> dict[str, float]:
    decided: dict[str, float] = {}
    while len(decided) < len(accepted):
        for incident_id in accepted.keys() - decided.keys():
            response = await http.get(f"/v1/incidents/{incident_id}/triage")
            analysis = response.json() if response.status_code == 200 else {}
            if analysis.get("status") not in (None, "analyzing"):
                decided[incident_id] = _epoch(analysis["updated_at"])
        await asyncio.sleep(0.2)
    return decided


async def _notifications(http: httpx.AsyncClient, accepted: dict[str, float]) -> dict[str, float]:
    found: dict[str, float] = {}
    after = 0
    for _ in range(300):
        page = (await http.get("/v1/notifications", params={"after_id": after})).json()
        for note in page:
            after = max(after, note["id"])
            if note["message"].startswith("created ") and note["incident_id"] in accepted:
                found[note["incident_id"]] = _epoch(note["created_at"])
        if len(found) == len(accepted):
            break
        await asyncio.sleep(0.2)
    return found


def _epoch(moment: str) -> float:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()


def _ms(values: list[float], p: float) -> float:
    return percentile(values, p) * 1000


def main(runbooks: int, repeats: int, incidents: int) -> None:
    ranked, keywords = time_ranking(runbooks, repeats)
    triage, baseline = asyncio.run(accepted_to_decided(incidents))
    print(f"machine: {os.cpu_count()} cores")
    print(f"ranking {runbooks} runbooks for one incident, {repeats} runs:")
    print(f"  multi-factor  p50 {_ms(ranked, 0.5):6.1f} ms  p99 {_ms(ranked, 0.99):6.1f} ms")
    print(f"  keyword only  p50 {_ms(keywords, 0.5):6.1f} ms  p99 {_ms(keywords, 0.99):6.1f} ms")
    print(f"accepted → decided, {incidents} incidents at {RATE:g}/s:")
    print(f"  triage          p50 {_ms(triage, 0.5):6.0f} ms  p99 {_ms(triage, 0.99):6.0f} ms")
    print(f"  one-step YAML   p50 {_ms(baseline, 0.5):6.0f} ms  p99 {_ms(baseline, 0.99):6.0f} ms")
    print(
        f"ratio ranking/keyword-only: p50 {_ms(ranked, 0.5) / _ms(keywords, 0.5):.1f}x; "
        f"ratio triage/one-step workflow: p50 {_ms(triage, 0.5) / _ms(baseline, 0.5):.1f}x "
        f"p99 {_ms(triage, 0.99) / _ms(baseline, 0.99):.1f}x"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runbooks", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("-n", "--incidents", type=int, default=50)
    arguments = parser.parse_args()
    main(arguments.runbooks, arguments.repeats, arguments.incidents)
    leave()
