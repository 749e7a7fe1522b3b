"""Triage's last stages: rank the runbooks for an incident, then decide — start a session
by itself, inside the org's guardrails, or ask a person (DESIGN §12).

A session starts by itself only when every guardrail lets it (services/triage_settings.py);
otherwise the incident awaits a person's selection, and the decision says which guardrail
held it back. Automatic sessions are requested by `fireline:triage`, so any person with an
approver role may approve their gated steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from dsl.runbook_plan import RunbookPlan
from services.org_settings import ExecutionMode, OrgSettingsService
from services.runbook_ranking import RunbookRanker
from services.triage_record import record_stage, recorded
from services.triage_settings import TriageSettings, TriageSettingsService
from services.workflow_registry import WorkflowRegistry
from store import triage_history
from store.db import Database
from store.incidents import get_snapshot
from store.notifications import add_notification
from workflows.names import TRIAGE_REQUESTER
from workflows.triage_models import Decided, DecideInput, Matched, TriageInput, VerifyInput

TOP_MATCHES = 5
SUGGESTED = 3


class SessionStarter(Protocol):
    async def __call__(
        self, org: str, incident_id: str, runbook_id: str, requester: str, analysis_id: str
    ) -> str:
        """Start a session that tells the analysis when it ends; its id."""
        ...


class TriageDecider:
    def __init__(
        self,
        db: Database,
        registry: WorkflowRegistry,
        ranker: RunbookRanker,
        settings: TriageSettingsService,
        org_settings: OrgSettingsService,
        start_session: SessionStarter,
    ) -> None:
        self._db = db
        self._registry = registry
        self._ranker = ranker
        self._settings = settings
        self._org_settings = org_settings
        self._start_session = start_session

    async def match(self, triage: TriageInput) -> Matched:
        async with self._db.read_session() as session:
            snapshot = await get_snapshot(session, triage.org_id, triage.incident_id)
        done = recorded(snapshot, triage, "matches")
        if done is not None:
            return _matched(done)
        ranked = await self._ranker.rank(
            org_id=triage.org_id, incident_id=triage.incident_id, plans=self._startable_plans()
        )
        top = [asdict(r) for r in ranked[:TOP_MATCHES]]
        async with self._db.session() as session:
            await record_stage(session, triage, "matched", "analyzing", matches=top)
        return _matched(top)

    def _startable_plans(self) -> list[RunbookPlan]:
        return [
            e.plan
            for e in self._registry.runbooks
            if e.plan is not None and not e.errors and e.inactive_reason is None
        ]

    async def decide(self, decide: DecideInput) -> Decided:
        triage = decide.triage
        async with self._db.read_session() as session:
            snapshot = await get_snapshot(session, triage.org_id, triage.incident_id)
        done = recorded(snapshot, triage, "decision")
        if done is not None:
            return Decided.model_validate(done)
        matches = list((snapshot.triage or {}).get("matches") or [])
        decided = await self._decision(
            triage, snapshot.severity, snapshot.service, matches, decide.review
        )
        async with self._db.session() as session:
            await record_stage(session, triage, "decided", decided.status, decision=decided)
            if decided.session_id is None:
                await self._ask(session, triage, snapshot.title, decided, matches)
        return decided

    async def verify(self, verify: VerifyInput) -> Decided:
        """After the session: its outcome (recorded by the session) against the incident."""
        triage = verify.triage
        async with self._db.session() as session:
            snapshot = await get_snapshot(
                session, triage.org_id, triage.incident_id, for_update=True
            )
            done = recorded(snapshot, triage, "verification")
            if done is not None:
                return Decided.model_validate(done)
            verified = _verified(verify, snapshot.status, snapshot.triage or {})
            await record_stage(session, triage, "verified", verified.status, verification=verified)
        return verified

    async def _decision(
        self,
        triage: TriageInput,
        severity: str,
        service: str | None,
        matches: list[dict[str, Any]],
        review: bool,
    ) -> Decided:
        if review:
            return Decided(
                status="needs_review", reason="a possible false positive: a person decides"
            )
        if not matches or not _fits(matches[0]):
            return Decided(status="needs_review", reason="no runbook fits this incident")
        best = matches[0]
        blocked = await self._guardrail(triage, severity, service, best)
        if blocked is not None:
            return Decided(status="awaiting_selection", reason=blocked)
        session_id = await self._start_session(
            triage.org_id,
            triage.incident_id,
            best["runbook_id"],
            TRIAGE_REQUESTER,
            triage.analysis_id,
        )
        return Decided(
            status="in_progress",
            reason=f"started runbook {best['runbook_id']} by itself: confidence "
            f"{best['confidence']} within every guardrail",
            session_id=session_id,
        )

    async def _guardrail(
        self, triage: TriageInput, severity: str, service: str | None, best: dict[str, Any]
    ) -> str | None:
        """Why an automatic start is not allowed, or None."""
        execution = await self._org_settings.get_execution_mode(org_id=triage.org_id)
        if execution.mode is not ExecutionMode.AUTO:
            return "the org runs sessions with a person in the loop (execution mode hil)"
        settings = await self._settings.get(org_id=triage.org_id)
        if settings.paused:
            return "automatic starts are paused for the org (triage settings: paused)"
        threshold = _threshold(settings, severity, execution.auto_threshold)
        if threshold is None:
            return f"{severity} incidents never start a session by themselves"
        if best["confidence"] < threshold:
            return (
                f"best match {best['runbook_id']} has confidence {best['confidence']}, below "
                f"the {severity} threshold {threshold}"
            )
        return await self._capacity(triage.org_id, service, best["runbook_id"], settings)

    async def _capacity(
        self, org_id: str, service: str | None, runbook_id: str, settings: TriageSettings
    ) -> str | None:
        now = datetime.now(UTC)
        async with self._db.read_session() as session:
            recent = await triage_history.auto_sessions(
                session, org_id, TRIAGE_REQUESTER, now - timedelta(days=1)
            )
        running = [s for s in recent if not s.finished]
        if len(running) >= settings.max_auto_sessions:
            limit = settings.max_auto_sessions
            return f"{len(running)} automatic session(s) already run (org limit {limit})"
        on_service = [s for s in running if s.service == service]
        if len(on_service) >= settings.max_auto_sessions_per_service:
            return (
                f"{len(on_service)} automatic session(s) already run on service {service} "
                f"(limit {settings.max_auto_sessions_per_service})"
            )
        cooldown = now - timedelta(minutes=settings.cooldown_minutes)
        if any(
            s.runbook_id == runbook_id and s.service == service and s.created_at >= cooldown
            for s in recent
        ):
            return (
                f"runbook {runbook_id} ran by itself on service {service} less than "
                f"{settings.cooldown_minutes} minutes ago (cooldown)"
            )
        return None

    async def _ask(
        self,
        session: Any,
        triage: TriageInput,
        title: str,
        decided: Decided,
        matches: list[dict[str, Any]],
    ) -> None:
        base = triage.fireline_url.rstrip("/")
        incident = f"{base}/v1/incidents/{quote(triage.incident_id, safe='')}"
        suggested = matches[:SUGGESTED]
        lines = [f"{m['runbook_id']} ({m['confidence']:.2f})" for m in suggested]
        page = f"{base}/incidents/{quote(triage.incident_id, safe='')}"  # the console's
        links = [{"text": "Incident", "url": page, "external": False}] + [
            {
                "text": f"Execute {m['runbook_id']}",
                "url": f"{incident}/runbooks/{quote(m['runbook_id'], safe='')}/execute",
                "external": False,
            }
            for m in suggested
        ]
        await add_notification(
            session,
            org_id=triage.org_id,
            title=f"Triage: {title}"[:200],
            message=f"{decided.reason}. "
            + (f"Suggested: {', '.join(lines)}." if lines else "No runbook suggested."),
            severity="warning",
            links=links,
            incident_id=triage.incident_id,
            source=triage.analysis_id,
            dedup_key=f"{triage.analysis_id}/decided",
        )


def _verified(verify: VerifyInput, incident_status: str, triage: dict[str, Any]) -> Decided:
    finished, session_id = verify.finished, verify.session_id
    if finished is None:
        return Decided(
            status="in_progress",
            reason=f"session {session_id} gave no outcome in time: a person reviews it",
            session_id=session_id,
        )
    result = finished.result or "escalated"  # ended without an outcome: failed or cancelled
    status = "escalated" if result not in ("resolved", "in_progress") else result
    if status == "resolved" and incident_status != "RESOLVED":
        status = "in_progress"
        why = f"the session resolved but the incident is {incident_status}: a person reviews"
    else:
        why = f"the incident is {incident_status}"
    return Decided(
        status=status,
        reason=f"session {session_id} ended {finished.status} with outcome {result}; {why}",
        session_id=session_id,
    )


def _fits(match: dict[str, Any]) -> bool:
    """A record alone (success, recency) does not make a runbook fit: its match criteria
    or its text must."""
    factors = match.get("factors") or {}
    return bool(factors.get("criteria") or factors.get("text"))


def _threshold(settings: TriageSettings, severity: str, default: float) -> float | None:
    if severity in settings.severity_thresholds:
        return settings.severity_thresholds[severity]
    return default


def _matched(top: Sequence[dict[str, Any]]) -> Matched:
    return Matched(
        runbook_ids=[m["runbook_id"] for m in top],
        best_confidence=top[0]["confidence"] if top else 0.0,
    )
