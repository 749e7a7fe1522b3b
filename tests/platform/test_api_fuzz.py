"""Schemathesis against the running API: every route of its OpenAPI document, with a token
of each role and with none. No answer may be a 5xx, every answer must match the schema
documented for its status, and a refused request (4xx) must have written nothing.

Bounded by examples per route and role (FIRELINE_FUZZ_EXAMPLES, 8 by default); the API
runs with a real worker on Temporal and no workflow files, and before each count the outbox
is drained and every run has finished, so nothing else writes while a request is judged."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from api.auth import Role
from store.models import Base
from tests.platform.harness import Platform, eventually, make_settings, running_platform
from tests.platform.ingest_helpers import all_dispatched

EXAMPLES = int(os.environ.get("FIRELINE_FUZZ_EXAMPLES", "8"))
# Streams never end by themselves: their routes are tested in test_*_stream.py.
STREAMS = {"/v1/notifications/stream", "/v1/sessions/{session_id}/stream"}
# Kept on purpose by a refusal: the Idempotency-Key's first answer (services/idempotency).
KEEPS_REFUSALS = {"idempotency_keys"}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
IDENTITIES: list[str | None] = [None, *(role.value for role in Role)]


@pytest.fixture
async def platform(tmp_path: Path, temporal_env: WorkflowEnvironment) -> AsyncIterator[Platform]:
    empty = tmp_path / "workflows"
    empty.mkdir()
    settings = make_settings(tmp_path, temporal_env, empty, {})
    async with running_platform(settings, temporal_env) as running:
        yield running


TABLES = sorted(set(Base.metadata.tables) - KEEPS_REFUSALS)
COUNT_ROWS = text("SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in TABLES))


async def row_counts(platform: Platform, finished: set[str]) -> dict[str, int]:
    """The number of rows in each table, once nothing else writes: an accepted request
    may start a run a moment later (a verdict starts the classifier's learning), which
    then writes while the next request is judged. So first the outbox is drained and
    every recorded run has finished, again until no new run appears (`finished`
    remembers those already seen ended)."""
    while await _new_runs_finished(platform, finished):
        pass  # a run that ended may have written an event that starts another
    # Counted in a transaction begun after the waits: one begun before them reads its own
    # snapshot and misses what the runs wrote meanwhile (the learning run's model row).
    async with platform.db.read_session() as session:
        counts = (await session.execute(COUNT_ROWS)).one()
    return dict(zip(TABLES, counts, strict=True))


async def _new_runs_finished(platform: Platform, finished: set[str]) -> bool:
    """Drain the outbox, then wait for every run not yet seen ended; False when there
    was none (nothing is left to write)."""
    await all_dispatched(platform.db)
    async with platform.db.read_session() as session:
        runs = set((await session.execute(text("SELECT run_id FROM workflow_runs"))).scalars())
    new = runs - finished
    for run_id in new:
        await eventually(lambda r=run_id: platform.finished_status(r), timeout=60)
        finished.add(run_id)
    return bool(new)


@pytest.mark.parametrize("identity", IDENTITIES, ids=[i or "anonymous" for i in IDENTITIES])
async def test_every_route_answers_within_its_schema_and_refusals_write_nothing(
    platform: Platform, identity: str | None
) -> None:
    incident = await platform.create_incident()  # something to find, change or be refused
    # Half the cases name this incident and a real webhook source instead of random ones,
    # so the fuzz reaches the handlers behind the 404s.
    known = {"incident_id": incident["id"], "source": "alertmanager"}
    document = (await platform.http.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    base_url = str(platform.http.base_url)
    headers = platform.auth("acme", identity) if identity else {}
    loop = asyncio.get_running_loop()
    finished: set[str] = set()

    def counts() -> dict[str, int]:
        return asyncio.run_coroutine_threadsafe(row_counts(platform, finished), loop).result()

    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzed = [op for op in operations if op.path not in STREAMS]
    assert len(fuzzed) >= 60  # every route, bar the two streams
    failures: list[str] = []
    answered: dict[str, set[int]] = {}
    for operation in fuzzed:
        seen = answered.setdefault(f"{operation.method.upper()} {operation.path}", set())
        fuzz = _fuzzer(operation, base_url, headers, known, counts, failures, seen)
        await asyncio.to_thread(fuzz)
    assert failures == [], "\n".join(failures[:20])
    print({label: sorted(codes) for label, codes in answered.items()})


def _fuzzer(
    operation: Any,
    base_url: str,
    headers: dict[str, str],
    known: dict[str, str],
    counts: Callable[[], dict[str, int]],
    failures: list[str],
    seen: set[int],
) -> Callable[[], None]:
    session = requests.Session()

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @given(case=operation.as_strategy(), name_known=st.booleans())
    def fuzz(case: schemathesis.Case, name_known: bool) -> None:
        if name_known and case.path_parameters:
            case.path_parameters.update(
                {key: value for key, value in known.items() if key in case.path_parameters}
            )
        before = counts()
        response = case.call(base_url=base_url, headers=headers, session=session, timeout=30)
        seen.add(response.status_code)
        label = f"{case.method} {case.formatted_path} -> {response.status_code}"
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as failure:  # every failed check is reported, not just the first
            failures.append(f"{label}: {type(failure).__name__}: {str(failure)[:300]}")
            return
        if response.status_code >= 400:
            after = counts()
            changed = {table: (n, after[table]) for table, n in before.items() if after[table] != n}
            if changed:
                failures.append(f"{label}: refused, yet wrote {changed}")

    return fuzz
