"""After the soak: what must hold, however many processes died on the way.

Each check prints what it counted; a violation names the incident or session."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

from sqlalchemy import text
from temporalio.client import Client, WorkflowExecutionStatus

from bench.soak_cluster import Cluster
from bench.soak_load import (
    ORG,
    TICKET_WORKFLOW_ID,
    Delivery,
    PlannedSession,
    Replicas,
    auth,
)
from store.enums import EventType


@dataclass
class Findings:
    counted: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def expect_once(self, what: str, counts: Counter[str], keys: list[str]) -> None:
        """Every key counted exactly once, and nothing counted that is not a key."""
        wrong = [f"{key} x{counts.get(key, 0)}" for key in keys if counts.get(key, 0) != 1]
        strays = sorted(set(counts) - set(keys))
        self.counted.append(f"{what}: {sum(counts.values())} for {len(keys)} incidents")
        if wrong:
            self.violations.append(f"{what}: not exactly once for {', '.join(wrong[:10])}")
        if strays:
            self.violations.append(f"{what}: unexpected for {', '.join(strays[:10])}")


async def check(
    cluster: Cluster,
    replicas: Replicas,
    client: Client,
    deliveries: list[Delivery],
    sessions: list[PlannedSession],
) -> Findings:
    findings = Findings()
    incidents = await _check_deliveries(cluster, deliveries, findings)
    await _check_runs(cluster, client, incidents, findings)
    await _check_notifications(cluster, incidents, findings)
    tickets = Counter(
        match.group(1)
        for issue in cluster.jira.issues
        if (match := re.search(r"Fireline incident (\S+)", str(issue.fields.get("description"))))
    )
    findings.expect_once("Jira tickets", tickets, incidents)
    await _check_sessions(cluster, replicas, sessions, findings)
    return findings


async def _rows(cluster: Cluster, sql: str, **params: object) -> list[tuple[object, ...]]:
    async with cluster.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql), params)]


async def _check_deliveries(
    cluster: Cluster, deliveries: list[Delivery], findings: Findings
) -> list[str]:
    acknowledged = [d for d in deliveries if d.acknowledged]
    findings.counted.append(
        f"deliveries: {2 * len(deliveries)} sent (each incident twice), "
        f"{sum(d.acknowledged for d in deliveries)} acknowledged"
    )
    rows = await _rows(cluster, "SELECT source_ref, id FROM incidents WHERE org_id = :o", o=ORG)
    by_ref = Counter(str(ref) for ref, _ in rows if str(ref).startswith("soak-"))
    findings.expect_once(
        "incidents per acknowledged delivery", by_ref, [d.source_ref for d in acknowledged]
    )
    incidents = [str(i) for ref, i in rows if str(ref).startswith("soak-")]
    created = await _rows(
        cluster,
        "SELECT incident_id FROM incident_events WHERE org_id = :o AND type = :created",
        o=ORG,
        created=EventType.CREATED.value,
    )
    findings.expect_once("created events", Counter(str(r[0]) for r in created), incidents)
    return incidents


async def _check_runs(
    cluster: Cluster, client: Client, incidents: list[str], findings: Findings
) -> None:
    recorded = await _rows(
        cluster,
        "SELECT incident_id FROM workflow_runs WHERE org_id = :o AND workflow_id = :w",
        o=ORG,
        w=TICKET_WORKFLOW_ID,
    )
    findings.expect_once("workflow runs recorded", Counter(str(r[0]) for r in recorded), incidents)
    query = f"WorkflowType = '{TICKET_WORKFLOW_ID}' AND TaskQueue = '{cluster.task_queue}'"
    runs = [run async for run in client.list_workflows(query)]
    started = Counter(run.id.split(":")[1] for run in runs)
    findings.expect_once("workflow runs in Temporal", started, incidents)
    unfinished = [r.id for r in runs if r.status != WorkflowExecutionStatus.COMPLETED]
    if unfinished:
        findings.violations.append(f"runs not completed: {', '.join(unfinished[:10])}")
    pending = await _rows(cluster, "SELECT id FROM outbox WHERE dispatched_at IS NULL")
    if pending:
        findings.violations.append(f"{len(pending)} outbox rows never dispatched")


async def _check_notifications(cluster: Cluster, incidents: list[str], findings: Findings) -> None:
    rows = await _rows(
        cluster,
        "SELECT message FROM notifications WHERE org_id = :o AND title LIKE 'Jira ticket %'",
        o=ORG,
    )
    said = Counter(
        match.group(1)
        for (message,) in rows
        if (match := re.search(r"Incident (\S+) has", str(message)))
    )
    findings.expect_once("ticket notifications", said, incidents)


async def _check_sessions(
    cluster: Cluster, replicas: Replicas, sessions: list[PlannedSession], findings: Findings
) -> None:
    rows = await _rows(cluster, "SELECT incident_id FROM runbook_sessions WHERE org_id = :o", o=ORG)
    findings.expect_once(
        "sessions per incident", Counter(str(r[0]) for r in rows), [s.incident_id for s in sessions]
    )
    headers = auth("soak-requester", "ORG_ADMIN")
    outcomes: Counter[str] = Counter()
    for session in sessions:
        path = f"/v1/sessions/{quote(session.session_id, safe=':')}"
        state = (await replicas.get(path, headers)).json()
        outcomes[state["status"]] += 1
        problem = _session_problem(session, state)
        if problem:
            findings.violations.append(f"session {session.session_id}: {problem}")
    summary = ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items()))
    findings.counted.append(f"sessions: {len(sessions)} ({summary})")


def _session_problem(session: PlannedSession, state: dict[str, object]) -> str | None:
    if state["status"] != session.expected_status:
        return f"ended {state['status']}, its script implies {session.expected_status}"
    lines = session.marker.read_text().splitlines() if session.marker.exists() else []
    if set(lines) != session.expected_lines:
        return f"commands ran {sorted(set(lines))}, expected {sorted(session.expected_lines)}"
    if session.fail:
        undone = [(r["step"], r["status"]) for r in state["rollbacks"]]  # type: ignore[attr-defined]
        if undone != [("change", "undone"), ("prepare", "undone")]:
            return f"rollbacks {undone}, expected change then prepare undone"
        if lines.index("undo change") > lines.index("undo prepare"):
            return "prepare was undone before change"
    return None
