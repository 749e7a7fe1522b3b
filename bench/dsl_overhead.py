"""How much does the YAML interpreter cost? `python -m bench.dsl_overhead [-n N]`

Runs N incidents through the shipped `jira-incident-integration` workflow and N through
the same activities hand-written in Temporal (bench/handwritten.py), on one Temporal dev
server, one worker and one fake Jira, in the same run. Prints throughput (workflows/s) of
both, their ratio, and history events per run of both.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.handwritten import HandWrittenJiraWorkflow
from bench.processes import leave
from core.settings import REPO_ROOT, Settings
from dsl.compiler import compile_file
from dsl.plan import WorkflowPlan
from services.incidents import IncidentService
from services.jsonable import jsonable
from services.workflow_start import build_input, start_plan_run
from store.db import Database
from store.enums import Severity
from tests.fakes.jira_server import FakeJira
from worker import build_worker
from workflows.models import TriggerContext
from workflows.names import SEARCH_ATTRIBUTES

SHIPPED = REPO_ROOT / "yaml_workflows" / "jira-incident-integration.yaml"


async def main(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeJira() as jira:
        settings = _settings(Path(tmp), jira)
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
            data_converter=pydantic_data_converter,
            search_attributes=SEARCH_ATTRIBUTES,
            ui=False,
            dev_server_log_level="error",
        )
        db = Database(settings.resolved_database_url)
        await db.migrate()
        plan = _shipped_plan()
        try:
            async with build_worker(
                env.client, db, settings, extra_workflows=[HandWrittenJiraWorkflow]
            ):
                await _measure(env.client, db, settings, plan, count, rounds)
        finally:
            await db.dispose()
            await env.shutdown()


def _settings(tmp: Path, jira: FakeJira) -> Settings:
    providers = tmp / "providers.yaml"
    auth = {"url": jira.url, "email": FakeJira.USER, "api_token": FakeJira.API_TOKEN}
    providers.write_text(yaml.safe_dump({"jira": {"type": "jira", "authentication": auth}}))
    return Settings(data_dir=tmp / "data", providers_file=providers, task_queue="bench")


def _shipped_plan() -> WorkflowPlan:
    result = compile_file(SHIPPED)
    if result.plan is None:
        raise SystemExit("\n".join(str(d) for d in result.diagnostics))
    return result.plan


async def _measure(
    client: Client, db: Database, settings: Settings, plan: WorkflowPlan, count: int, rounds: int
) -> None:
    await _batch(client, db, settings, plan, "warmup-yaml", min(count, 10), handwritten=False)
    await _batch(client, db, settings, plan, "warmup-hand", min(count, 10), handwritten=True)
    totals = {"yaml": 0.0, "hand": 0.0}
    events = {"yaml": 0, "hand": 0}
    for round_no in range(rounds):
        # Alternate the order so neither side always runs on a warmer server.
        order = [("yaml", False), ("hand", True)][:: 1 if round_no % 2 == 0 else -1]
        for name, handwritten in order:
            seconds, ids = await _batch(
                client, db, settings, plan, f"{name}{round_no}", count, handwritten
            )
            totals[name] += seconds
            events[name] = await _history_events(client, ids[0])
    _report(count * rounds, totals, events)


async def _batch(
    client: Client,
    db: Database,
    settings: Settings,
    plan: WorkflowPlan,
    label: str,
    count: int,
    handwritten: bool,
) -> tuple[float, list[str]]:
    inputs = [await _incident_input(db, settings, plan, label, i) for i in range(count)]
    start = time.perf_counter()
    ids = [f"bench:{label}:{i}" for i in range(count)]
    for run_id, run_input in zip(ids, inputs, strict=True):
        if handwritten:
            await client.start_workflow(
                HandWrittenJiraWorkflow.run, run_input, id=run_id, task_queue=settings.task_queue
            )
        else:
            await start_plan_run(
                client, run_id=run_id, task_queue=settings.task_queue, run_input=run_input
            )
    await asyncio.gather(*(client.get_workflow_handle(i).result() for i in ids))
    return time.perf_counter() - start, ids


async def _incident_input(
    db: Database, settings: Settings, plan: WorkflowPlan, label: str, index: int
) -> Any:
    service = IncidentService(db)
    incident = await service.create(
        org_id="bench",
        actor="bench",
        title=f"{label} incident {index}",
        severity=Severity.SEV2,
        enrichments={"target_project": "OPS"},
    )
    return build_input(
        plan,
        org="bench",
        trigger=TriggerContext(type="incident", event="created"),
        incident=jsonable(incident),
        fireline_url=settings.resolved_public_url,
    )


async def _history_events(client: Client, run_id: str) -> int:
    history = await client.get_workflow_handle(run_id).fetch_history()
    return len(history.events)


def _report(runs: int, totals: dict[str, float], events: dict[str, int]) -> None:
    yaml_rate, hand_rate = runs / totals["yaml"], runs / totals["hand"]
    print(f"runs per side: {runs}")
    print(
        f"YAML workflow (jira-incident-integration): {yaml_rate:8.1f} workflows/s, "
        f"{events['yaml']} history events/run"
    )
    print(
        f"hand-written Temporal workflow:            {hand_rate:8.1f} workflows/s, "
        f"{events['hand']} history events/run"
    )
    print(f"throughput ratio YAML/hand-written: {yaml_rate / hand_rate:.2f} (goal >= 0.90)")
    extra = (events["yaml"] - events["hand"]) / events["hand"] * 100
    print(f"history events YAML vs hand-written: {extra:+.0f}% (goal <= +10%)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=100, help="incidents per side per round")
    parser.add_argument("-r", "--rounds", type=int, default=3, help="alternating rounds")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.rounds))
    leave()
