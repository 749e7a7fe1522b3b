"""`db` steps in runbook sessions and YAML workflows, on the time-skipping server with the
real worker: the connection comes from the connection store (password decrypted by the
activity, never in history), reads are read-only, writes commit, and a db rollback
restores the row when a later step fails."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.secretbox import SecretBox
from dsl.compiler import compile_text
from services.connections import ConnectionService, ConnectionSpec, Credential
from tests.fakes.sql_databases import FLAGS, ScratchDb, postgres_scratch, sqlite_scratch
from tests.store.databases import POSTGRES_URL_ENV, postgres_url
from tests.workflows.sessions import ORG, SessionRig, replays, step_statuses
from workflows.models import TriggerContext, WorkflowInput

HOSTILE = "'; DROP TABLE flags; --"

TURN_OFF = """
runbook:
  id: db-turn-off
  name: Turn a flag off in the database
  consts: {log: "@LOG@"}
  prechecks:
    - name: read-flag
      idempotent: true
      provider:
        type: db
        with:
          connection: flags-db
          query: "SELECT name, enabled FROM @TABLE@ WHERE name = :name"
          params: {name: "{{ incident.service }}"}
  steps:
    - name: turn-off
      provider:
        type: db
        with:
          connection: flags-db
          query: "UPDATE @TABLE@ SET enabled = 0 WHERE name = :name"
          params: {name: "{{ incident.service }}"}
          write: true
      rollback:
        provider:
          type: db
          with:
            connection: flags-db
            query: "UPDATE @TABLE@ SET enabled = :enabled WHERE name = :name"
            params:
              enabled: "{{ steps.read-flag.results.rows[0].enabled }}"
              name: "{{ incident.service }}"
            write: true
    - name: read-again
      provider:
        type: db
        with:
          connection: flags-db
          query: "SELECT enabled FROM @TABLE@ WHERE name = :name"
          params: {name: "{{ incident.service }}"}
    - name: fail
      run: echo seen {{ steps.read-again.results.rows[0].enabled }} >> {{ consts.log }}; exit 3
      connector: local
"""

READ_ONLY_WRITE = """
runbook:
  id: db-forgot-write
  name: A write without write true
  prechecks:
    - name: sneaky
      provider:
        type: db
        with: {connection: flags-db, query: "UPDATE @TABLE@ SET enabled = 0"}
  steps:
    - {name: never, run: "true", connector: local}
"""

READ_FROM = """
runbook:
  id: db-read-from
  name: Read from a named connection
  inputs:
    - {name: conn, type: string, required: true}
  prechecks:
    - name: read
      provider:
        type: db
        with: {connection: "{{ inputs.conn }}", query: "SELECT 1 AS one"}
  steps:
    - {name: never, run: "true", connector: local}
"""

WORKFLOW = """
workflow:
  id: db-workflow
  name: db from a YAML workflow
  triggers:
    - type: manual
      inputs:
        - {name: flag, type: string, required: true}
  steps:
    - name: before
      provider:
        type: db
        with:
          connection: flags-db
          query: "SELECT enabled FROM @TABLE@ WHERE name = :name"
          params: {name: "{{ inputs.flag }}"}
    - name: flip
      provider:
        type: db
        with:
          connection: flags-db
          query: "UPDATE @TABLE@ SET enabled = 1 - :was WHERE name = :name"
          params: {was: "{{ steps.before.results.rows[0].enabled }}", name: "{{ inputs.flag }}"}
          write: true
"""


@pytest.fixture(params=["sqlite", "postgresql"])
async def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ScratchDb]:
    if request.param == "sqlite":
        folder = tmp_path / "target"
        folder.mkdir()
        yield sqlite_scratch(folder)
        return
    server_url = postgres_url()
    if server_url is None:
        pytest.skip(f"set {POSTGRES_URL_ENV} to run against PostgreSQL")
    async with postgres_scratch(server_url) as database:
        yield database


def connections(rig: SessionRig) -> ConnectionService:
    # The worker decrypts with the same key: the data dir's secret key.
    return ConnectionService(rig.db, SecretBox(rig.settings.effective_secret_key()))


async def add_connection(
    rig: SessionRig, scratch: ScratchDb, name: str = "flags-db", org: str = ORG
) -> None:
    target = scratch.target
    credential = None
    if target.host is None:
        spec = ConnectionSpec(kind="db", database=target.database)
    else:
        assert target.password is not None
        spec = ConnectionSpec(
            kind="db",
            host=target.host,
            port=target.port,
            username=target.username,
            database=target.database,
        )
        credential = Credential("password", target.password)
    await connections(rig).create(org_id=org, name=name, spec=spec, credential=credential)


def history_text(history: Any) -> str:
    """Every event as protobuf text: payloads are JSON bytes, shown as they are."""
    return "\n".join(str(event) for event in history.events)


async def test_a_db_rollback_restores_the_row_when_a_later_step_fails(
    ts_rig: SessionRig, scratch: ScratchDb
) -> None:
    # The flag's name is hostile SQL: it reaches the database only as a bound value.
    await scratch.execute(
        f"INSERT INTO {scratch.table} (name, enabled) VALUES (:name, 1)",
        {"name": HOSTILE},
    )
    await add_connection(ts_rig, scratch)
    incident = await ts_rig.incident(service=HOSTILE)
    plan = ts_rig.runbook(TURN_OFF, table=scratch.table)

    async with ts_rig.worker():
        handle = await ts_rig.start(plan, incident=incident, mode="auto", confidence=0.9)
        final = await handle.result()

    assert ts_rig.lines() == ["seen 0"]  # the write committed before the failure
    assert await scratch.flags() == {**FLAGS, HOSTILE: 1}  # and the rollback restored it
    assert scratch.table in await scratch.table_names()
    assert final.status == "rolled_back"
    assert step_statuses(final) == {
        "read-flag": "succeeded",
        "turn-off": "succeeded",
        "read-again": "succeeded",
        "fail": "failed",
    }
    assert {r.step: r.status for r in final.rollbacks}["turn-off"] == "undone"

    history = history_text(await handle.fetch_history())
    assert "UPDATE " + scratch.table in history  # the calls are there...
    if scratch.target.password is not None:
        assert scratch.target.password not in history  # ...the password is not
    await replays(handle)


async def test_a_write_without_write_true_is_refused_and_changes_nothing(
    ts_rig: SessionRig, scratch: ScratchDb
) -> None:
    await add_connection(ts_rig, scratch)
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(READ_ONLY_WRITE, table=scratch.table), mode="auto", confidence=0.9
        )
        final = await handle.result()

    sneaky = final.step("sneaky")
    assert sneaky is not None and sneaky.status == "failed" and sneaky.error is not None
    assert "add `write: true` to the step if it must change data" in sneaky.error
    assert final.status == "failed"
    assert step_statuses(final)["never"] == "pending"
    assert await scratch.flags() == FLAGS


async def test_a_db_step_names_what_is_wrong_with_its_connection(
    ts_rig: SessionRig, tmp_path: Path
) -> None:
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    scratch = sqlite_scratch(target_dir)
    await add_connection(ts_rig, scratch, name="theirs", org="other-org")
    service = connections(ts_rig)
    await service.create(org_id=ORG, name="shell", spec=ConnectionSpec(kind="local"))
    # The worker's own SQLite database (the rig's app store) is off limits.
    own_file = ts_rig.db.url.split("///", 1)[1]
    await service.create(org_id=ORG, name="own", spec=ConnectionSpec("db", database=own_file))
    plan = ts_rig.runbook(READ_FROM)
    errors = {}

    async with ts_rig.worker():
        for name in ("nope", "theirs", "shell", "own"):
            handle = await ts_rig.start(plan, mode="auto", confidence=0.9, inputs={"conn": name})
            final = await handle.result()
            read = final.step("read")
            assert final.status == "failed" and read is not None
            errors[name] = read.error or ""

    assert "no connection 'nope' in this organisation" in errors["nope"]
    assert "no connection 'theirs' in this organisation" in errors["theirs"]
    assert "connection 'shell' is of kind local, not db" in errors["shell"]
    assert "connection 'own' points at Fireline's own data" in errors["own"]


async def test_a_yaml_workflow_reads_and_writes_through_the_db_provider(
    ts_rig: SessionRig, scratch: ScratchDb
) -> None:
    await add_connection(ts_rig, scratch)
    compiled = compile_text(WORKFLOW.replace("@TABLE@", scratch.table), "db-workflow.yaml")
    assert compiled.plan is not None, [str(d) for d in compiled.diagnostics]
    run_input = WorkflowInput(
        plan=compiled.plan,
        org=ORG,
        trigger=TriggerContext(type="manual", actor="test"),
        inputs={"flag": "banner"},
    )

    async with ts_rig.worker():
        outcome = await ts_rig.env.client.execute_workflow(
            compiled.plan.id,
            run_input,
            id=f"db-workflow-{uuid.uuid4().hex[:8]}",
            task_queue=ts_rig.settings.task_queue,
            result_type=dict,
        )

    steps = {step["name"]: step for step in outcome["steps"]}
    assert steps["before"]["results"]["rows"] == [{"enabled": 0}]
    assert steps["flip"]["results"] == {
        "columns": [],
        "rows": [],
        "row_count": 1,
        "truncated": False,
    }
    assert await scratch.flags() == {**FLAGS, "banner": 1}


LINTED = """
runbook:
  id: db-linted
  name: Linted
  steps:
    - name: pasted
      provider:
        type: db
        with:
          connection: flags-db
          query: "SELECT * FROM flags WHERE name = '{{ incident.service }}'"
          write: "yes"
          max_rows: 20000
          timeout: forever
          params: {"bad name": 1}
"""


def test_the_compiler_refuses_a_templated_query_and_bad_literals() -> None:
    result = compile_text(LINTED.lstrip("\n"), "db-linted.yaml")
    messages = [d.message for d in result.errors]
    assert result.runbook is None
    for expected in [
        "db: 'query' must be literal SQL, not a template: write :name in the query and give "
        "the value in 'params' (values are bound, never pasted into SQL)",
        "db: params name 'bad name' cannot be a bind parameter; use letters, digits and _",
        "db: 'write' must be true or false",
        "db: 'max_rows' must be a whole number from 1 to 10000",
        "db: 'timeout': invalid duration 'forever'",
    ]:
        assert any(expected in message for message in messages), (expected, messages)


RENDERED_LIMIT = """
runbook:
  id: db-rendered-limit
  name: A limit from an input
  inputs:
    - {name: rows, type: number, required: true}
  prechecks:
    - name: read
      provider:
        type: db
        with:
          connection: flags-db
          query: "SELECT name FROM @TABLE@"
          max_rows: "{{ inputs.rows }}"
  steps:
    - {name: never, run: "true", connector: local}
"""


async def test_rendered_parameters_are_checked_by_the_activity(ts_rig: SessionRig) -> None:
    target_dir = ts_rig.dir / "target"
    target_dir.mkdir()
    scratch = sqlite_scratch(target_dir)
    await add_connection(ts_rig, scratch)
    plan = ts_rig.runbook(RENDERED_LIMIT, table=scratch.table)
    async with ts_rig.worker():
        refused = await (await ts_rig.start(plan, inputs={"rows": 0}, mode="auto")).result()
        allowed = await (await ts_rig.start(plan, inputs={"rows": 2}, mode="auto")).result()

    read = refused.step("read")
    assert read is not None and read.error is not None
    assert "invalid parameters: max_rows: Input should be greater than or equal to 1" in read.error
    assert refused.status == "failed"
    assert allowed.status == "completed"
