"""What bench/soak.py sends: incidents delivered twice each, and runbook sessions whose
approvals arrive while processes die. Every request goes to the next API replica and is
retried (on the next one) until it is answered with a final status, as a monitoring
tool's webhook sender or an on-call engineer's browser would."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from api.auth import issue_token
from bench.processes import JWT_SECRET

ORG = "soak"
RUNBOOK_ID = "soak-session"
# `change` fails when its session's `fail` input is "yes": the script then implies a
# rollback of both steps, in reverse order.
RUNBOOK = f"""
runbook:
  id: {RUNBOOK_ID}
  name: Soak session
  inputs:
    - {{name: marker, type: string, required: true, description: File the steps write to}}
    - {{name: fail, type: string, default: "no", description: yes makes change fail}}
  approval: {{roles: [SRE_LEAD], timeout: 2h}}
  steps:
    - name: prepare
      run: echo prepare >> {{{{ inputs.marker }}}}
      connector: local
      idempotent: true
      retry: {{maximum_attempts: 10, initial_interval: 1s}}
      rollback:
        run: echo undo prepare >> {{{{ inputs.marker }}}}
        retry: {{maximum_attempts: 10, initial_interval: 1s}}
    - name: change
      run: echo change >> {{{{ inputs.marker }}}}; test {{{{ inputs.fail }}}} = no
      connector: local
      requires_approval: true
      idempotent: true
      retry: {{maximum_attempts: 2, initial_interval: 1s}}
      rollback:
        run: echo undo change >> {{{{ inputs.marker }}}}
        retry: {{maximum_attempts: 10, initial_interval: 1s}}
"""
# Every incident gets a Jira ticket, written back, then a notification: the shipped
# jira-incident-integration's steps, for incidents from the ingestion endpoint (which
# carry no target_project enrichment).
TICKET_WORKFLOW_ID = "soak-ticket"
TICKET_WORKFLOW = f"""
workflow:
  id: {TICKET_WORKFLOW_ID}
  triggers: [{{type: incident, events: [created]}}]
  steps:
    - name: create-jira-ticket
      provider:
        type: jira
        config: "{{{{ providers.jira }}}}"
        with:
          project_key: OPS
          summary: "[{{{{ incident.severity }}}}] {{{{ incident.title }}}}"
          description: "Fireline incident {{{{ incident.id }}}}"
          issue_type: Bug
      enrich_incident:
        - {{key: ticket_id, value: "{{{{ results.issue.key }}}}"}}
      retry: {{maximum_attempts: 10, initial_interval: 1s}}
      timeout: 60s
  actions:
    - name: notify-ticket-created
      provider:
        type: notify
        with:
          title: "Jira ticket {{{{ steps.create-jira-ticket.results.issue.key }}}} opened"
          message: "Incident {{{{ incident.id }}}} has its ticket."
"""
RETRYABLE = {500, 502, 503, 504}
REQUEST_DEADLINE = 600.0  # seconds one request may be retried for


def auth(sub: str, *roles: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {issue_token(JWT_SECRET, org=ORG, roles=list(roles), sub=sub)}"
    }


@dataclass
class Replicas:
    """Round-robin over the API replicas, retrying until a final answer."""

    urls: list[str]
    http: httpx.AsyncClient
    retries: int = 0
    _next: itertools.cycle[str] = field(init=False)

    def __post_init__(self) -> None:
        self._next = itertools.cycle(self.urls)

    async def post(self, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
        return await self._send("POST", path, headers, body)

    async def get(self, path: str, headers: dict[str, str]) -> httpx.Response:
        return await self._send("GET", path, headers, None)

    async def _send(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> httpx.Response:
        deadline = asyncio.get_running_loop().time() + REQUEST_DEADLINE
        for attempt in itertools.count():
            url = next(self._next) + path
            try:
                response = await self.http.request(method, url, json=body, headers=headers)
                if response.status_code not in RETRYABLE and not _still_handled(response):
                    return response
            except httpx.TransportError:
                pass  # the replica died or restarts: the next one gets it
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{method} {path}: no final answer in {REQUEST_DEADLINE} s")
            self.retries += 1
            await asyncio.sleep(min(0.2 * (attempt + 1), 2.0))
        raise AssertionError("unreachable")


def _still_handled(response: httpx.Response) -> bool:
    """The request's Idempotency-Key is held by its first attempt, running or dead (a dead
    one's claim is taken over once it lapses): ask again."""
    return response.status_code == 409 and "still being handled" in response.text


@dataclass
class Delivery:
    source_ref: str
    incident_id: str | None = None  # set once a delivery was acknowledged (2xx)
    acknowledged: int = 0


def incident_body(source_ref: str, number: int) -> dict[str, Any]:
    return {
        "sourceType": "CUSTOM",
        "sourceRef": source_ref,
        "title": f"Checkout errors {number}",
        "severity": "high",
        "timeline": {"start": "2026-12-05T10:00:00Z"},
        "metadata": {"service": "checkout", "environment": "prod"},
    }


def alertmanager_body(source_ref: str, number: int) -> dict[str, Any]:
    """An Alertmanager webhook delivery of one firing alert, keyed by its fingerprint."""
    alert = {
        "status": "firing",
        "labels": {"alertname": f"Checkout errors {number}", "severity": "critical"},
        "annotations": {"summary": "Checkout returns 5xx"},
        "startsAt": "2026-12-05T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": source_ref,
    }
    return {
        "version": "4",
        "status": "firing",
        "receiver": "fireline",
        "groupKey": source_ref,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [alert],
    }


async def deliver_incidents(
    replicas: Replicas, count: int, width: int = 8, spread: float = 0.0
) -> list[Delivery]:
    """Each incident is delivered twice, at once, to two replicas: the duplicate a
    monitoring tool sends when it never saw the first answer. Every other incident comes
    through the Alertmanager webhook, the rest through the generic ingestion endpoint.
    With `spread`, the deliveries are paced to take about that many seconds."""
    pause = spread * width / max(count, 1)
    run = uuid.uuid4().hex[:8]
    deliveries = [Delivery(f"soak-{run}-{n}") for n in range(count)]
    headers = auth("soak-monitor", "ANALYST")
    numbers = iter(range(count))

    async def send(delivery: Delivery, number: int) -> None:
        if number % 2:
            body = alertmanager_body(delivery.source_ref, number)
            response = await replicas.post("/v1/webhooks/alertmanager", body, headers)
            answer = response.json()["incidents"][0] if response.status_code < 300 else {}
        else:
            body = incident_body(delivery.source_ref, number)
            response = await replicas.post("/v1/incidents/ingest", body, headers)
            answer = response.json() if response.status_code < 300 else {}
        if response.status_code in (200, 201):
            delivery.incident_id = answer["incidentId"]
            delivery.acknowledged += 1
        else:
            raise RuntimeError(f"delivery refused: {response.status_code} {response.text}")

    async def loop() -> None:
        for number in numbers:
            delivery = deliveries[number]
            await asyncio.gather(send(delivery, number), send(delivery, number))
            await asyncio.sleep(pause)

    await asyncio.gather(*(loop() for _ in range(width)))
    return deliveries


@dataclass
class PlannedSession:
    incident_id: str
    fail: bool
    marker: Path
    session_id: str = ""

    @property
    def expected_status(self) -> str:
        return "rolled_back" if self.fail else "completed"

    @property
    def expected_lines(self) -> set[str]:
        done = {"prepare", "change"}
        return done | {"undo change", "undo prepare"} if self.fail else done


async def start_sessions(
    replicas: Replicas, incident_ids: list[str], folder: Path
) -> list[PlannedSession]:
    """One session per incident, every third one scripted to fail; each start carries an
    Idempotency-Key, so a retried start never starts a second session, even when the
    replica that took the first attempt died."""
    planned = [
        PlannedSession(incident, fail=n % 3 == 2, marker=folder / f"session-{n}.log")
        for n, incident in enumerate(incident_ids)
    ]
    for session in planned:
        headers = {**auth("soak-requester", "ORG_ADMIN"), "Idempotency-Key": uuid.uuid4().hex}
        inputs = {"marker": str(session.marker), "fail": "yes" if session.fail else "no"}
        path = f"/v1/incidents/{session.incident_id}/runbooks/{RUNBOOK_ID}/execute"
        response = await replicas.post(path, {"inputs": inputs}, headers)
        if response.status_code != 201:
            raise RuntimeError(f"session start refused: {response.status_code} {response.text}")
        session.session_id = response.json()["session_id"]
    return planned


async def run_sessions(
    replicas: Replicas, incident_ids: list[str], folder: Path
) -> list[PlannedSession]:
    sessions = await start_sessions(replicas, incident_ids, folder)
    await approve_sessions(replicas, sessions)
    return sessions


async def approve_sessions(replicas: Replicas, sessions: list[PlannedSession]) -> None:
    """Approve whatever step each session asks for (in HIL mode every step asks) until it
    ends. A refusal after a retry ("already decided") means the first attempt got through;
    the next look at the session shows it."""
    headers = auth("soak-approver", "SRE_LEAD")
    waiting = list(sessions)
    while waiting:
        for session in list(waiting):
            if await _ended(replicas, session, headers):
                waiting.remove(session)
        await asyncio.sleep(0.5)


async def _ended(replicas: Replicas, session: PlannedSession, headers: dict[str, str]) -> bool:
    path = f"/v1/sessions/{quote(session.session_id, safe=':')}"
    state = (await replicas.get(path, headers)).json()
    if state["status"] not in ("running", "pending", "waiting_approval"):
        return True
    if state["status"] == "waiting_approval" and state.get("pending"):
        step = state["pending"]["step"]
        await replicas.post(f"{path}/steps/{step}/approve", {}, headers)
    return False
