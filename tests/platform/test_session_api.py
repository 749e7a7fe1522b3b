"""Runbook sessions over HTTP on the real platform: the API, the worker, Temporal, SQLite.

Runbooks here run local commands that write marker files under tmp_path, so what ran
(and what was undone) can be seen on disk.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from core.errors import NotFoundError
from core.secretbox import SecretBox
from services.connections import ConnectionService
from services.org_settings import OrgSettingsService
from services.session_inputs import linked_ticket
from services.session_target import LOCAL_RULE, NO_TARGET_RULE
from services.sessions import SessionService, WorkerUnavailableError
from services.workflow_registry import WorkflowRegistry
from tests.fakes.jira_server import FakeJira
from tests.platform.harness import Platform, eventually
from tests.platform.session_helpers import (
    add_runbook,
    get_session,
    list_sessions,
    new_org,
    reload,
    session_path,
    set_execution_mode,
    start_session,
    started,
    wait_for_pending,
    wait_for_status,
    write_runbook,
)
from workflows.names import DECIDE_UPDATE
from workflows.session_models import ApprovalDecision, DecisionResult

MARKERS = """
runbook:
  id: markers
  name: Write marker files
  description: Touches two files, checks both exist.
  match: {severities: [SEV2]}
  inputs:
    - {name: dir, type: string, required: true}
  prechecks:
    - {name: dir-exists, run: "test -d {{ inputs.dir }}", connector: local, idempotent: true}
  steps:
    - name: first
      run: "touch {{ inputs.dir }}/first"
      connector: local
      rollback: "rm -f {{ inputs.dir }}/first"
    - name: second
      run: "touch {{ inputs.dir }}/second"
      connector: local
      rollback: "rm -f {{ inputs.dir }}/second"
  postchecks:
    - name: both
      run: "test -f {{ inputs.dir }}/first && test -f {{ inputs.dir }}/second"
      connector: local
      idempotent: true
"""

TYPED = """
runbook:
  id: typed
  name: Typed inputs
  inputs:
    - {name: dir, type: string, required: true}
    - {name: count, type: number, default: 1}
    - {name: force, type: boolean}
  steps:
    - {name: noop, run: "true", connector: local}
"""

ON_HOST = """
runbook:
  id: on-host
  name: Run on the incident's host
  inputs:
    - {name: host, type: string, default: ""}
  target: {connection: "{{ inputs.host }}"}
  prechecks:
    - {name: uptime, run: uptime, idempotent: true}
  steps:
    - {name: noop, run: "true"}
"""

ECHO = """
runbook:
  id: echo-incident
  name: Echo the incident
  match: {severities: [SEV2]}
  inputs:
    - {name: out, type: string, required: true}
  steps:
    - name: write
      run: >-
        echo {{ incident.service }} > {{ inputs.out }}/service.txt;
        echo {{ incident.title }} > {{ inputs.out }}/title.txt
      connector: local
"""


async def incident(platform: Platform, org: str, **fields: Any) -> str:
    created = await platform.create_incident(org, **fields)
    return str(created["id"])


async def timeline(platform: Platform, org: str, incident_id: str) -> list[dict[str, Any]]:
    response = await platform.http.get(
        f"/v1/incidents/{incident_id}/timeline", headers=platform.auth(org)
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


# --- starting and running ------------------------------------------------------------------------


async def test_auto_mode_runs_the_session_to_completion_and_records_the_outcome(
    platform: Platform, tmp_path: Path
) -> None:
    org = new_org()
    await add_runbook(platform, "markers", MARKERS)
    await set_execution_mode(platform, org, "auto")
    incident_id = await incident(platform, org, title="Checkout down", severity="SEV2")

    body = await started(platform, org, incident_id, "markers", inputs={"dir": str(tmp_path)})

    session_id = f"{org}:{incident_id}:runbook:markers:1"
    assert body["session_id"] == session_id
    assert body["number"] == 1
    assert (body["runbook_id"], body["incident_id"]) == ("markers", incident_id)
    assert (body["status"], body["mode"], body["auto_threshold"]) == ("running", "auto", 0.8)
    assert body["confidence"] == 1.0
    assert body["approve_every_step"] is False
    assert body["reasons"] == ["severity SEV2 is one of SEV2"]
    assert body["target"] == {"connection": None, "host": None, "rule": NO_TARGET_RULE}
    assert body["requester"] == f"{org}-tester"
    assert body["temporal_ui_url"].endswith(session_id.replace(":", "%3A"))
    assert body["links"] == {
        "self": session_path(session_id),
        "stream": session_path(session_id, "/stream"),
        "cancel": session_path(session_id, "/cancel"),
    }

    state = await wait_for_status(platform, org, session_id, "completed")
    assert [(s["name"], s["status"], s["exit_code"]) for s in state["steps"]] == [
        ("dir-exists", "succeeded", 0),
        ("first", "succeeded", 0),
        ("second", "succeeded", 0),
        ("both", "succeeded", 0),
    ]
    assert all(s["approved_by"] is None for s in state["steps"])
    assert all(s["started_at"] and s["finished_at"] for s in state["steps"])
    assert state["outcome"]["result"] == "resolved"
    assert state["confidence"] == 1.0
    assert state["temporal_status"] == "COMPLETED"
    assert (tmp_path / "first").exists() and (tmp_path / "second").exists()

    events = await timeline(platform, org, incident_id)
    outcomes = [e for e in events if e["type"] == "INCIDENT_PLAYBOOK_ACTION_EXECUTED"]
    assert [e["payload"]["action"] for e in outcomes] == ["runbook:markers"]
    assert outcomes[0]["payload"]["details"]["session_id"] == session_id

    second = await started(platform, org, incident_id, "markers", inputs={"dir": str(tmp_path)})
    assert second["session_id"] == f"{org}:{incident_id}:runbook:markers:2"
    await wait_for_status(platform, org, second["session_id"], "completed")

    async def listed_closed() -> list[dict[str, Any]] | None:
        rows = await list_sessions(platform, org)  # the list's status lags (visibility)
        return rows if all(r["temporal_status"] != "RUNNING" for r in rows) else None

    listed = await eventually(listed_closed)
    assert [(s["session_id"], s["status"]) for s in listed] == [
        (second["session_id"], "completed"),
        (session_id, "completed"),
    ]
    assert listed[0]["target_rule"] == NO_TARGET_RULE
    assert listed[0]["temporal_status"] == "COMPLETED"


async def test_the_incidents_jira_ticket_gets_the_outcome(
    platform: Platform, fake_jira: FakeJira, tmp_path: Path
) -> None:
    org = new_org()
    await add_runbook(platform, "markers", MARKERS)
    await set_execution_mode(platform, org, "auto")
    issue = fake_jira.add_issue(project="OPS")
    # As jira-incident-integration writes it back on the incident.
    linked = {"ticket_type": "jira", "ticket_id": issue.key}
    incident_id = await incident(platform, org, enrichments=linked)

    body = await started(platform, org, incident_id, "markers", inputs={"dir": str(tmp_path)})
    state = await wait_for_status(platform, org, body["session_id"], "completed")

    assert state["outcome"]["ticket"] == issue.key
    assert state["outcome"]["ticket_error"] is None
    comments = fake_jira.issue(issue.key).comments
    # (The shipped jira-resolve-ticket workflow comments too: the incident got resolved.)
    assert [c for c in comments if c.startswith("Runbook 'Write marker files' completed")]


def test_jira_and_servicenow_tickets_are_linked_with_their_system() -> None:
    assert linked_ticket({"enrichments": {"ticket_id": "OPS-1"}}) == ("jira", "OPS-1")
    jira = {"ticket_id": "OPS-1", "ticket_type": "Jira"}
    assert linked_ticket({"enrichments": jira}) == ("jira", "OPS-1")
    servicenow = {"ticket_id": " INC0010001 ", "ticket_type": "servicenow"}
    assert linked_ticket({"enrichments": servicenow}) == ("servicenow", "INC0010001")
    linear = {"ticket_id": "ENG-7", "ticket_type": "linear"}
    assert linked_ticket({"enrichments": linear}) is None
    assert linked_ticket({"enrichments": {"ticket_url": "https://x"}}) is None
    assert linked_ticket({}) is None


async def test_below_the_threshold_auto_mode_asks_for_every_step(
    platform: Platform, tmp_path: Path
) -> None:
    org = new_org()
    await add_runbook(platform, "markers", MARKERS)
    await set_execution_mode(platform, org, "auto")
    incident_id = await incident(platform, org, severity="SEV3")  # the runbook is for SEV2

    body = await started(platform, org, incident_id, "markers", inputs={"dir": str(tmp_path)})

    assert (body["mode"], body["confidence"], body["approve_every_step"]) == ("auto", 0.0, True)
    assert body["reasons"] == ["severity SEV3 is not one of SEV2"]
    state = await wait_for_pending(platform, org, body["session_id"], "first")
    assert state["status"] == "waiting_approval"
    assert not (tmp_path / "first").exists()


async def test_hil_waits_for_approval_and_cancel_rolls_back(
    platform: Platform, tmp_path: Path
) -> None:
    org = new_org()
    await add_runbook(platform, "markers", MARKERS)
    incident_id = await incident(platform, org)
    body = await started(platform, org, incident_id, "markers", inputs={"dir": str(tmp_path)})
    session_id = body["session_id"]
    assert (body["mode"], body["approve_every_step"]) == ("hil", True)

    state = await wait_for_pending(platform, org, session_id, "first")
    assert state["status"] == "waiting_approval"
    assert state["pending"]["roles"] == ["ORG_ADMIN", "SRE_LEAD"]
    assert state["temporal_status"] == "RUNNING"

    # The approval routes are another part of the API; the workflow's Update is the same.
    decision = ApprovalDecision(
        step="first", approve=True, approver="bob", approver_roles=["SRE_LEAD"]
    )
    handle = platform.client.get_workflow_handle(session_id)
    await handle.execute_update(DECIDE_UPDATE, decision, result_type=DecisionResult)
    state = await wait_for_pending(platform, org, session_id, "second")
    assert (tmp_path / "first").exists()

    async def listed_waiting() -> list[dict[str, Any]] | None:
        rows = await list_sessions(platform, org, status="waiting_approval")
        return rows if rows and rows[0]["pending_step"] == "second" else None

    [row] = await eventually(listed_waiting)
    assert row["session_id"] == session_id
    assert await list_sessions(platform, org, status="completed") == []

    cancel = await platform.http.post(
        session_path(session_id, "/cancel"), headers=platform.auth(org, "SRE_LEAD")
    )
    assert cancel.status_code == 202, cancel.text
    assert cancel.json()["session_id"] == session_id

    state = await wait_for_status(platform, org, session_id, "rolled_back")
    assert state["cancelled"] is True
    assert [(r["step"], r["status"]) for r in state["rollbacks"]] == [("first", "undone")]
    assert state["steps"][1]["approved_by"] == "bob"
    assert state["outcome"]["result"] == "escalated"
    assert not (tmp_path / "first").exists()
    assert not (tmp_path / "second").exists()

    again = await platform.http.post(
        session_path(session_id, "/cancel"), headers=platform.auth(org, "SRE_LEAD")
    )
    assert again.status_code == 409
    assert again.json() == {"detail": "session already rolled_back; nothing to cancel"}


# --- who may do what -----------------------------------------------------------------------------


async def test_another_org_cannot_see_start_or_cancel_a_session(
    platform: Platform, tmp_path: Path
) -> None:
    org, other = new_org(), new_org()
    await add_runbook(platform, "markers", MARKERS)
    incident_id = await incident(platform, org)
    body = await started(platform, org, incident_id, "markers", inputs={"dir": str(tmp_path)})
    session_id = body["session_id"]
    await wait_for_pending(platform, org, session_id, "first")

    read = await platform.http.get(session_path(session_id), headers=platform.auth(other))
    cancel = await platform.http.post(
        session_path(session_id, "/cancel"), headers=platform.auth(other)
    )
    execute = await start_session(
        platform, other, incident_id, "markers", inputs={"dir": str(tmp_path)}
    )
    ranked = await platform.http.get(
        f"/v1/incidents/{incident_id}/runbooks", headers=platform.auth(other)
    )
    for response in (read, cancel, execute, ranked):
        assert response.status_code == 404, response.text
    assert session_id in read.json()["detail"]
    assert await list_sessions(platform, other) == []
    assert await list_sessions(platform, other, incident_id=incident_id) == []
    # Nothing happened to the session, and org's own list still has it.
    state = await get_session(platform, org, session_id)
    assert (state["status"], state["cancelled"]) == ("waiting_approval", False)
    assert [s["session_id"] for s in await list_sessions(platform, org)] == [session_id]


async def test_orgs_named_with_a_quote_or_a_backslash_list_their_sessions_and_approvals(
    platform: Platform, tmp_path: Path
) -> None:
    # Listings filter Temporal's visibility by org and session id: a name must stay one
    # literal there (a trailing backslash would otherwise escape its closing quote).
    await add_runbook(platform, "markers", MARKERS)
    waiting: dict[str, str] = {}
    for org in (new_org() + "'s", new_org() + "\\"):
        incident_id = await incident(platform, org)
        folder = tmp_path / str(len(waiting))
        folder.mkdir()
        body = await started(platform, org, incident_id, "markers", inputs={"dir": str(folder)})
        await wait_for_pending(platform, org, body["session_id"], "first")
        waiting[org] = body["session_id"]

    for org, session_id in waiting.items():

        async def listed(org: str = org) -> list[dict[str, Any]] | None:
            return await list_sessions(platform, org, status="waiting_approval") or None

        assert [row["session_id"] for row in await eventually(listed)] == [session_id]
    quoted = next(iter(waiting))
    approvals = await platform.http.get("/v1/approvals", headers=platform.auth(quoted, "SRE_LEAD"))
    assert approvals.status_code == 200, approvals.text
    assert [(a["session_id"], a["step"]) for a in approvals.json()["items"]] == [
        (waiting[quoted], "first")
    ]


async def test_readers_cannot_start_or_cancel(platform: Platform, tmp_path: Path) -> None:
    org = new_org()
    await add_runbook(platform, "markers", MARKERS)
    incident_id = await incident(platform, org)
    for role in ("ANALYST", "VIEWER"):
        response = await start_session(
            platform, org, incident_id, "markers", inputs={"dir": str(tmp_path)}, roles=(role,)
        )
        assert response.status_code == 403, response.text
    assert not await platform.run_exists(f"{org}:{incident_id}:runbook:markers:1")
    body = await started(platform, org, incident_id, "markers", inputs={"dir": str(tmp_path)})
    cancel = await platform.http.post(
        session_path(body["session_id"], "/cancel"), headers=platform.auth(org, "VIEWER")
    )
    assert cancel.status_code == 403
    state = await get_session(platform, org, body["session_id"])
    assert state["cancelled"] is False


# --- what a start refuses ------------------------------------------------------------------------


async def test_unknown_runbook_and_unknown_incident_are_404(
    platform: Platform, tmp_path: Path
) -> None:
    org = new_org()
    await add_runbook(platform, "markers", MARKERS)
    incident_id = await incident(platform, org)

    unknown = await start_session(platform, org, incident_id, "no-such-runbook")
    assert unknown.status_code == 404
    detail = unknown.json()["detail"]
    assert "runbook 'no-such-runbook' is not loaded" in detail
    assert "markers" in detail and "restart-systemd-service" in detail

    missing = await start_session(
        platform, org, "inc_missing", "markers", inputs={"dir": str(tmp_path)}
    )
    assert missing.status_code == 404
    assert await list_sessions(platform, org) == []


async def test_a_runbook_with_errors_cannot_start(platform: Platform) -> None:
    org = new_org()
    write_runbook(
        platform,
        "broken",
        """
        runbook:
          id: broken
          name: Broken
          steps:
            - {name: nothing}
        """,
    )
    reloaded = await reload(platform)
    assert reloaded["runbooks_with_errors"] >= 1
    incident_id = await incident(platform, org)

    response = await start_session(platform, org, incident_id, "broken")

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("runbook 'broken' has errors and cannot start: ")
    assert "broken.yaml" in detail
    assert not await platform.run_exists(f"{org}:{incident_id}:runbook:broken:1")


async def test_bad_inputs_are_422_naming_each_field_and_start_nothing(platform: Platform) -> None:
    org = new_org()
    await add_runbook(platform, "typed", TYPED)
    incident_id = await incident(platform, org)

    response = await start_session(
        platform, org, incident_id, "typed", inputs={"count": "three", "force": "yes", "bogus": 1}
    )

    assert response.status_code == 422
    assert response.json()["detail"] == (
        "runbook 'typed': unknown input 'bogus' (known: dir, count, force); "
        "missing required input 'dir'; input 'count' must be a number, got string; "
        "input 'force' must be a boolean, got string"
    )
    not_an_object = await platform.http.post(
        f"/v1/incidents/{incident_id}/runbooks/typed/execute",
        json={"inputs": ["dir"]},
        headers=platform.auth(org),
    )
    assert not_an_object.status_code == 422
    assert await list_sessions(platform, org) == []
    assert not await platform.run_exists(f"{org}:{incident_id}:runbook:typed:1")

    # Right inputs: this is session 1, nothing was numbered by the refused starts.
    body = await started(platform, org, incident_id, "typed", inputs={"dir": "/tmp"})
    assert body["number"] == 1


async def test_a_start_temporal_refuses_leaves_no_row(platform: Platform, tmp_path: Path) -> None:
    org = new_org()
    await add_runbook(platform, "markers", MARKERS)
    incident_id = await incident(platform, org)
    taken = f"{org}:{incident_id}:runbook:markers:1"
    # A workflow the session index does not know already holds the id (a reset database).
    squatter = await platform.client.start_workflow(
        "Squatter", id=taken, task_queue=f"{org}-nobody"
    )
    try:
        response = await start_session(
            platform, org, incident_id, "markers", inputs={"dir": str(tmp_path)}
        )
        assert response.status_code == 409
        assert f"a Temporal workflow with id '{taken}' already exists" in response.json()["detail"]
        assert await list_sessions(platform, org) == []
        assert (await squatter.describe()).workflow_type == "Squatter"
    finally:
        await squatter.terminate("test cleanup")


# --- targets -------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def create_ssh_connection(platform: Platform, org: str, name: str) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    host_key = " ".join(key.export_public_key("openssh").decode().split()[:2])
    body = {
        "name": name,
        "kind": "ssh",
        "host": "127.0.0.1",
        "port": closed_port(),  # nothing listens: the session's first command fails fast
        "username": "deploy",
        "hostKey": host_key,
        "credential": {"kind": "password", "secret": "not-used-5b1e"},
    }
    response = await platform.http.post("/v1/connections", json=body, headers=platform.auth(org))
    assert response.status_code == 201, response.text


async def test_the_target_rule_is_recorded_in_the_answer_and_the_session(
    platform: Platform,
) -> None:
    org = new_org()
    await add_runbook(platform, "on-host", ON_HOST)
    await create_ssh_connection(platform, org, "web-01")
    incident_id = await incident(
        platform, org, title="Checkout 502", description="Since the deploy web-01 answers 502."
    )

    body = await started(platform, org, incident_id, "on-host")

    described = {
        "connection": "web-01",
        "host": "127.0.0.1",
        "rule": "'web-01' appears in the incident's description",
    }
    assert body["target"] == described
    state = await get_session(platform, org, body["session_id"])
    assert state["target"] == described
    [row] = await list_sessions(platform, org)
    assert (row["target_connection"], row["target_rule"]) == ("web-01", described["rule"])
    # The host does not answer: the precheck fails and nothing else runs.
    failed = await wait_for_status(platform, org, body["session_id"], "failed")
    assert [s["status"] for s in failed["steps"]] == ["failed", "pending"]

    named = await started(platform, org, incident_id, "on-host", connection="web-01")
    assert named["target"]["rule"] == "connection 'web-01' named when the session was started"
    assert named["number"] == 2

    unknown = await start_session(platform, org, incident_id, "on-host", connection="web-02")
    assert unknown.status_code == 422
    assert "no connection named 'web-02'" in unknown.json()["detail"]
    assert not await platform.run_exists(f"{org}:{incident_id}:runbook:on-host:3")

    nothing = await incident(platform, org, description="checkout is slow")
    local = await started(platform, org, nothing, "on-host")
    assert local["target"] == {"connection": None, "host": None, "rule": LOCAL_RULE}


# --- runbooks: listed, described, ranked for an incident -----------------------------------------


async def test_the_shipped_runbooks_are_listed_without_errors(platform: Platform) -> None:
    response = await platform.http.get("/v1/runbooks", headers=platform.auth(new_org(), "VIEWER"))
    assert response.status_code == 200
    runbooks = {r["id"]: r for r in response.json()}
    for name in ("restart-systemd-service", "clear-disk-space", "disable-feature-flag"):
        assert runbooks[name]["errors"] == [], runbooks[name]
        assert runbooks[name]["file"].endswith(f"{name}.yaml")
        assert len(runbooks[name]["plan_hash"]) == 16
    restart = runbooks["restart-systemd-service"]
    assert restart["target"] == "{{ inputs.host | default(incident.ci | default(''), true) }}"
    assert restart["match"]["severities"] == ["SEV1", "SEV2", "SEV3"]
    assert restart["approval"]["roles"] == ["SRE_LEAD", "ONCALL_ENGINEER"]
    assert restart["approval"]["on_timeout"] == "escalate"
    assert restart["steps"] == {
        "prechecks": ["unit-status", "unit-state"],
        "steps": ["restart"],
        "postchecks": ["unit-active", "health"],
        "requiring_approval": ["restart"],
    }
    assert [i["name"] for i in restart["inputs"]] == ["host", "service", "health_url"]
    assert restart["startable"] is True
    # Its flag service is an http connection the test's providers file does not have.
    flags = runbooks["disable-feature-flag"]
    assert flags["startable"] is False
    assert "feature_flags" in flags["inactive_reason"]

    one = await platform.http.get(
        "/v1/runbooks/restart-systemd-service", headers=platform.auth(new_org(), "VIEWER")
    )
    assert one.json() == restart
    missing = await platform.http.get("/v1/runbooks/nope", headers=platform.auth())
    assert missing.status_code == 404


async def test_reload_reads_new_runbooks(platform: Platform) -> None:
    before = await reload(platform)
    write_runbook(platform, "markers", MARKERS)
    after = await reload(platform)
    assert after["runbooks"] == before["runbooks"] + 1
    assert after["loaded"] == before["loaded"]  # workflows only
    response = await platform.http.get("/v1/runbooks/markers", headers=platform.auth())
    assert response.json()["name"] == "Write marker files"


async def test_runbooks_for_an_incident_rank_the_best_fit_first(platform: Platform) -> None:
    org = new_org()
    incident_id = await incident(
        platform, org, title="checkout service down", severity="SEV2", service="checkout"
    )

    response = await platform.http.get(
        f"/v1/incidents/{incident_id}/runbooks", headers=platform.auth(org, "VIEWER")
    )

    assert response.status_code == 200
    ranked = response.json()
    assert ranked[0]["runbook_id"] == "restart-systemd-service"
    assert ranked[0]["factors"]["criteria"] == 0.75
    assert ranked[0]["factors"]["success"] == 0.5  # never run in this org
    assert ranked[0]["reasons"][:2] == [
        "severity SEV2 is one of SEV1, SEV2, SEV3",
        "keyword found: 'down' (not found: 'unhealthy', 'not responding', '5xx', "
        "'crashloop', 'restart')",
    ]
    assert ranked[0]["execute_url"] == (
        f"/v1/incidents/{incident_id}/runbooks/restart-systemd-service/execute"
    )
    confidences = [r["confidence"] for r in ranked]
    assert confidences == sorted(confidences, reverse=True)
    assert confidences[0] > confidences[1]


# --- injection -----------------------------------------------------------------------------------


async def test_incident_fields_cannot_inject_commands(platform: Platform, tmp_path: Path) -> None:
    org = new_org()
    await add_runbook(platform, "echo-incident", ECHO)
    await set_execution_mode(platform, org, "auto")
    service = f"x; touch {tmp_path}/pwned"
    title = f"$(touch {tmp_path}/pwned2) `touch {tmp_path}/pwned3`"
    incident_id = await incident(platform, org, title=title, service=service, severity="SEV2")

    body = await started(platform, org, incident_id, "echo-incident", inputs={"out": str(tmp_path)})
    await wait_for_status(platform, org, body["session_id"], "completed")

    assert (tmp_path / "service.txt").read_text() == service + "\n"
    assert (tmp_path / "title.txt").read_text() == title + "\n"
    for name in ("pwned", "pwned2", "pwned3"):
        assert not (tmp_path / name).exists()


# --- no worker -----------------------------------------------------------------------------------


async def test_without_a_worker_reading_a_session_says_to_start_one(
    platform: Platform, tmp_path: Path
) -> None:
    org = new_org()
    await add_runbook(platform, "markers", MARKERS)
    incident_id = await incident(platform, org)
    # The same service the API uses, on a task queue no worker polls.
    settings = platform.settings.model_copy(update={"task_queue": f"{org}-no-worker"})
    registry = WorkflowRegistry(settings.workflows_dir, settings.resolved_providers_file)
    registry.reload()
    service = SessionService(
        platform.db,
        platform.client,
        registry,
        settings,
        ConnectionService(platform.db, SecretBox(settings.effective_secret_key())),
        OrgSettingsService(platform.db),
        query_timeout_seconds=1,
    )
    session = await service.start(org, incident_id, "markers", "alice", {"dir": str(tmp_path)})
    try:
        with pytest.raises(WorkerUnavailableError) as err:
            await service.get(org, session.session_id)
        assert "start one with `fireline worker`" in str(err.value)
        assert f"task queue '{org}-no-worker'" in str(err.value)
        with pytest.raises(NotFoundError):
            await service.get(new_org(), session.session_id)
        [row] = await service.list(org)
        assert (row.status, row.temporal_status) == ("running", "RUNNING")
    finally:
        await platform.client.get_workflow_handle(session.session_id).terminate("test cleanup")

    async def listed_terminated() -> bool:
        [row] = await service.list(org)
        return row.status == "terminated" and row.temporal_status == "TERMINATED"

    await eventually(listed_terminated)
