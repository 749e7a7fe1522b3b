"""The linked ticket follows the outcome: a comment with the summary, and a transition."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.jira_server import FakeJira
from tests.fakes.servicenow_server import FakeServiceNow
from tests.workflows.sessions import SessionRig

RUNBOOK = """
runbook:
  id: ticketed
  name: Ticketed
  consts: {log: "@LOG@"}
  steps:
    - {name: fix, run: "echo fix >> {{ consts.log }}", connector: local}
  postchecks:
    - {name: check, run: "cat {{ consts.log }}", connector: local, idempotent: true}
"""

FAILING = """
runbook:
  id: ticketed-failing
  name: Ticketed failing
  steps:
    - {name: fix, run: "exit 2", connector: local}
"""


@pytest.fixture
def jira(ts_rig: SessionRig) -> Iterator[FakeJira]:
    with FakeJira() as fake:
        auth = {"url": fake.url, "email": FakeJira.USER, "api_token": FakeJira.API_TOKEN}
        ts_rig.use_providers({"jira": {"type": "jira", "authentication": auth}})
        yield fake


async def test_a_resolved_session_comments_on_and_closes_the_ticket(
    ts_rig: SessionRig, jira: FakeJira
) -> None:
    issue = jira.add_issue(summary="Checkout 5xx")
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(RUNBOOK), mode="auto", confidence=0.9, ticket=issue.key
        )
        final = await handle.result()

    assert final.outcome is not None and final.outcome.result == "resolved"
    assert final.outcome.ticket == issue.key and final.outcome.ticket_error is None
    stored = jira.issue(issue.key)
    assert stored.status == "Done"
    assert stored.comments == [final.outcome.summary]


async def test_an_escalated_session_only_comments(ts_rig: SessionRig, jira: FakeJira) -> None:
    issue = jira.add_issue(summary="Checkout 5xx")
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(FAILING), mode="auto", confidence=0.9, ticket=issue.key
        )
        final = await handle.result()

    assert final.status == "rolled_back"
    stored = jira.issue(issue.key)
    assert stored.status == "To Do"
    assert len(stored.comments) == 1 and "outcome escalated" in stored.comments[0]


async def test_a_ticket_that_cannot_be_updated_is_reported_not_fatal(
    ts_rig: SessionRig, jira: FakeJira
) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(RUNBOOK), mode="auto", confidence=0.9, ticket="OPS-999"
        )
        final = await handle.result()

    assert final.status == "completed"
    assert final.outcome is not None and final.outcome.ticket_error is not None
    assert "OPS-999" in final.outcome.ticket_error
    assert jira.issues == []


@pytest.fixture
def servicenow(ts_rig: SessionRig) -> Iterator[FakeServiceNow]:
    with FakeServiceNow() as fake:
        auth = {"url": fake.url, "username": fake.USER, "password": fake.PASSWORD}
        ts_rig.use_providers({"servicenow": {"type": "servicenow", "authentication": auth}})
        yield fake


async def test_a_resolved_session_notes_and_resolves_the_servicenow_ticket(
    ts_rig: SessionRig, servicenow: FakeServiceNow
) -> None:
    ticket = servicenow.add_incident(short_description="Checkout 5xx")
    incident = await ts_rig.incident()
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(RUNBOOK),
            incident=incident,
            mode="auto",
            confidence=0.9,
            ticket=ticket["number"],
            ticket_system="servicenow",
        )
        final = await handle.result()

    assert final.outcome is not None and final.outcome.ticket_error is None
    stored = servicenow.incident(ticket["number"])
    assert (stored["state"], stored["close_code"]) == ("6", "Solved (Permanently)")
    assert stored["close_notes"] == final.outcome.summary
    [note] = servicenow.notes(ticket["sys_id"])
    assert note.startswith(final.outcome.summary)
    assert f"Session: http://fireline.test/v1/sessions/{handle.id}" in note
    assert f"Incident: http://fireline.test/incidents/{incident['id']}" in note


async def test_an_escalated_session_hands_the_servicenow_ticket_to_the_group(
    ts_rig: SessionRig, servicenow: FakeServiceNow
) -> None:
    ticket = servicenow.add_incident(short_description="Checkout 5xx")
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(FAILING),
            mode="auto",
            confidence=0.9,
            ticket=ticket["number"],
            ticket_system="servicenow",
            escalation_group="Database On-Call",
        )
        final = await handle.result()

    assert final.outcome is not None and final.outcome.result == "escalated"
    stored = servicenow.incident(ticket["number"])
    assert (stored["state"], stored["assignment_group"]) == ("2", "Database On-Call")
    [note] = servicenow.notes(ticket["sys_id"])
    assert "outcome escalated" in note


async def test_a_servicenow_ticket_that_cannot_be_updated_is_reported_not_fatal(
    ts_rig: SessionRig, servicenow: FakeServiceNow
) -> None:
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(RUNBOOK),
            mode="auto",
            confidence=0.9,
            ticket="INC0099999",
            ticket_system="servicenow",
        )
        final = await handle.result()

    assert final.status == "completed"
    assert final.outcome is not None
    assert "INC0099999 not found" in (final.outcome.ticket_error or "")
    assert servicenow.incidents == {}
