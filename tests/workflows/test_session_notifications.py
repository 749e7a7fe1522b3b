"""Notifications of runbook sessions: the outcome on the org's stream (once, also when
`session.record_outcome` is retried) and approval notices posted to Slack when a `slack`
connection is configured (Slack failing never stops the approval wait)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from temporalio.testing import ActivityEnvironment

from activities.deps import ActivityDeps
from activities.sessions import SessionActivities
from store.enums import EventType
from store.records import Notification
from tests.fakes.slack_server import WEBHOOK_PATH, FakeSlack
from tests.workflows.sessions import ORG, SessionRig, rollback_view, waiting_for
from workflows.session_models import OutcomeRecord, RollbackResult, StepSummary

PUBLIC_URL = "https://fireline.example.com"
APPROVAL_TITLES = ("Runbook step waits for approval", "Runbook approval escalated")
DEADLINE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")

RESOLVES = """
runbook:
  id: resolves
  name: Resolves
  consts: {log: "@LOG@"}
  steps:
    - {name: fix, run: "echo fix >> {{ consts.log }}", connector: local}
  postchecks:
    - {name: check, run: "cat {{ consts.log }}", connector: local, expect: {stdout_contains: fix}}
"""

NO_POSTCHECKS = """
runbook:
  id: unproven
  name: Unproven
  steps:
    - {name: fix, run: echo fix, connector: local}
"""

FAILS = """
runbook:
  id: fails
  name: Fails
  consts: {log: "@LOG@"}
  steps:
    - name: change
      run: echo change >> {{ consts.log }}
      connector: local
      rollback: echo undo change >> {{ consts.log }}
    - {name: boom, run: exit 4, connector: local}
"""

ROLLBACK_FAILS = """
runbook:
  id: rollback-fails
  name: Rollback fails
  steps:
    - name: change
      run: echo change
      connector: local
      rollback: {run: exit 9, retry: {maximum_attempts: 1}}
    - {name: boom, run: exit 4, connector: local}
"""

ESCALATES = """
runbook:
  id: escalates
  name: Escalates
  consts: {log: "@LOG@"}
  approval:
    roles: [SRE_LEAD, ONCALL_ENGINEER]
    timeout: 4h
    on_timeout: escalate
    escalate_to: [ORG_ADMIN]
    escalation_timeout: 1h
  steps:
    - name: first
      run: echo first >> {{ consts.log }}
      connector: local
      rollback: echo undo first >> {{ consts.log }}
    - name: restart-db
      run: echo restart >> {{ consts.log }}
      connector: local
      requires_approval: true
"""


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


def with_public_url(rig: SessionRig) -> SessionRig:
    rig.settings = rig.settings.model_copy(update={"public_url": PUBLIC_URL})
    return rig


def outcome_notes(notes: list[Notification]) -> list[Notification]:
    return [n for n in notes if (n.title or "").startswith("Runbook session ")]


def expected_links(session_id: str, incident_id: str) -> list[dict[str, object]]:
    return [
        {"text": "Session", "url": f"{PUBLIC_URL}/v1/sessions/{session_id}", "external": False},
        {"text": "Incident", "url": f"{PUBLIC_URL}/incidents/{incident_id}", "external": False},
    ]


@pytest.mark.parametrize(
    ("runbook", "status", "result", "severity"),
    [
        (RESOLVES, "completed", "resolved", "info"),
        (NO_POSTCHECKS, "completed", "in_progress", "warning"),
        (FAILS, "rolled_back", "escalated", "error"),
        (ROLLBACK_FAILS, "rollback_failed", "escalated", "error"),
    ],
)
async def test_the_outcome_goes_to_the_notification_stream_once(
    ts_rig: SessionRig, runbook: str, status: str, result: str, severity: str
) -> None:
    rig = with_public_url(ts_rig)
    incident = await rig.incident()
    async with rig.worker():
        handle = await rig.start(rig.runbook(runbook), incident=incident, mode="auto")
        final = await handle.result()

    assert final.status == status
    assert final.outcome is not None and final.outcome.result == result
    [note] = outcome_notes(await rig.notifications())
    assert note.title == f"Runbook session {status.replace('_', ' ')}"
    assert note.message == final.outcome.summary
    assert note.severity == severity
    assert note.incident_id == incident["id"] and note.source == final.session_id
    assert note.links == expected_links(final.session_id, incident["id"])


async def test_a_rolled_back_session_says_what_was_undone(ts_rig: SessionRig) -> None:
    incident = await ts_rig.incident()
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(FAILS), incident=incident, mode="auto")
        final = await handle.result()

    assert ts_rig.lines() == ["change", "undo change"]
    assert rollback_view(final) == [("change", "undone"), ("boom", "no_rollback")]
    [note] = outcome_notes(await ts_rig.notifications())
    assert note.title == "Runbook session rolled back" and note.severity == "error"
    assert note.message.startswith("Runbook 'Fails' rolled back: ")
    assert "Undone: change." in note.message
    assert "No rollback defined (left as is): boom." in note.message


async def test_a_retried_record_outcome_adds_no_second_notification(ts_rig: SessionRig) -> None:
    incident = await ts_rig.incident()
    activities = SessionActivities(
        ActivityDeps(db=ts_rig.db, providers_file=ts_rig.dir / "none.yaml", public_url=PUBLIC_URL)
    )
    record = OutcomeRecord(
        session_id=f"{ORG}:{incident['id']}:runbook:fails:1",
        org_id=ORG,
        incident_id=incident["id"],
        runbook_id="fails",
        runbook="Fails",
        status="rolled_back",
        result="escalated",
        confidence=0.0,
        summary="Runbook 'Fails' rolled back: 0 of 2 steps and postchecks succeeded.",
        requester="alice",
        steps=[StepSummary(name="boom", phase="step", status="failed", exit_code=4)],
        rollbacks=[RollbackResult(step="boom", status="no_rollback")],
    )
    env = ActivityEnvironment()
    first = await env.run(activities.record_outcome, record)
    again = await env.run(activities.record_outcome, record)  # as Temporal retries it

    assert (first.recorded, again.recorded) == (True, False)
    other = record.model_copy(update={"session_id": f"{ORG}:{incident['id']}:runbook:fails:2"})
    assert (await env.run(activities.record_outcome, other)).recorded  # its own outcome
    [note] = [n for n in await ts_rig.notifications() if n.source == record.session_id]
    assert note.title == "Runbook session rolled back" and note.severity == "error"
    assert note.message == record.summary and note.source == record.session_id
    assert note.links == expected_links(record.session_id, incident["id"])
    events = await ts_rig.events(incident["id"])
    outcomes = [e for e in events if e.type == EventType.PLAYBOOK_ACTION_EXECUTED]
    assert [e.payload["details"]["session_id"] for e in outcomes] == [
        record.session_id,
        other.session_id,
    ]


async def test_approval_notices_are_posted_to_slack_when_configured(
    ts_rig: SessionRig, fake_slack: FakeSlack
) -> None:
    rig = with_public_url(ts_rig)
    rig.use_providers(
        {"slack": {"type": "slack", "authentication": {"webhook_url": fake_slack.webhook_url}}}
    )
    incident = await rig.incident()
    async with rig.worker():
        handle = await rig.start(
            rig.runbook(ESCALATES), incident=incident, mode="auto", confidence=0.9
        )
        waiting = await waiting_for(handle, "restart-db")
        final = await handle.result()  # 4h, then 1h more: skipped by the test server

    assert final.status == "rolled_back"
    assert waiting.pending is not None
    requested, escalated = (message["text"] for message in fake_slack.messages)
    first_deadline = waiting.pending.deadline.strftime("%Y-%m-%d %H:%M UTC")
    assert requested.startswith("*Runbook step waits for approval*\n")
    assert "'restart-db'" in requested and "SRE_LEAD or ONCALL_ENGINEER" in requested
    assert first_deadline in requested
    assert escalated.startswith("*Runbook approval escalated*\n")
    assert "'restart-db'" in escalated
    assert "SRE_LEAD or ONCALL_ENGINEER or ORG_ADMIN" in escalated
    assert DEADLINE.search(escalated) and first_deadline not in escalated  # 1h later
    for text in (requested, escalated):
        assert f"Session: {PUBLIC_URL}/v1/sessions/{final.session_id}" in text

    # The stream got the same notices; the webhook (the credential) is nowhere.
    stored = [n.message for n in await rig.notifications() if n.title in APPROVAL_TITLES]
    assert len(stored) == 2
    assert all(m in t for m, t in zip(stored, (requested, escalated), strict=True))
    secret = WEBHOOK_PATH.rsplit("/", 1)[-1]
    assert not any(secret in text for text in (requested, escalated))
    assert secret not in (await handle.fetch_history()).to_json()


async def test_slack_failing_never_stops_the_approval_wait(
    ts_rig: SessionRig, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    ts_rig.use_providers(
        {"slack": {"type": "slack", "authentication": {"webhook_url": fake_slack.webhook_url}}}
    )
    fake_slack.fail_next(404, times=10)  # the webhook was revoked
    incident = await ts_rig.incident()
    with caplog.at_level(logging.WARNING):
        async with ts_rig.worker():
            handle = await ts_rig.start(
                ts_rig.runbook(ESCALATES), incident=incident, mode="auto", confidence=0.9
            )
            final = await handle.result()

    assert fake_slack.messages == []
    # The wait ran its course: escalated, then rejected and rolled back, as without Slack.
    assert final.status == "rolled_back"
    restart = final.step("restart-db")
    assert restart is not None and restart.status == "rejected"
    assert ts_rig.lines() == ["first", "undo first"]
    titles = [n.title for n in await ts_rig.notifications()]
    assert titles[:2] == list(APPROVAL_TITLES)
    warnings = [r.getMessage() for r in caplog.records if "not posted to Slack" in r.getMessage()]
    assert len(warnings) == 2, warnings
    assert all("HTTP 404" in w for w in warnings)
    secret = WEBHOOK_PATH.rsplit("/", 1)[-1]
    assert not any(secret in record.getMessage() for record in caplog.records)


async def test_a_slack_connection_of_another_type_is_not_used(
    ts_rig: SessionRig, fake_slack: FakeSlack
) -> None:
    ts_rig.use_providers(
        {"slack": {"type": "http", "authentication": {"webhook_url": fake_slack.webhook_url}}}
    )
    async with ts_rig.worker():
        handle = await ts_rig.start(ts_rig.runbook(ESCALATES), mode="auto", confidence=0.9)
        await handle.result()
    assert fake_slack.messages == []
    assert fake_slack.requests == []
