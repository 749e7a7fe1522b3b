"""Triage's first stages and what people do with it: classify an incident, close a false
positive, record an operator's verdict, and show the analysis (DESIGN §12).

Every stage appends one INCIDENT_TRIAGED event carrying the analysis id, the stage, the
triage status and what it decided with its reasons; the snapshot's `triage` is their
sum. A retried stage finds its own record in the snapshot and returns it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from core.errors import InvalidInputError, NotFoundError
from services.jsonable import jsonable
from services.triage_classify import (
    Classification,
    IncidentFacts,
    PastAlert,
    classify,
    closes,
    fingerprint_of,
)
from services.triage_record import record_stage, recorded
from services.triage_settings import TriageSettings, TriageSettingsService
from services.triage_votes import TriageVoters
from services.workflow_registry import WorkflowRegistry
from store import triage_history
from store.db import Database
from store.enums import EventType, IncidentStatus
from store.incidents import append_event, get_snapshot, list_events
from store.notifications import add_notification
from store.records import IncidentSnapshot
from workflows.names import TRIAGE_REQUESTER
from workflows.triage_models import Classified, Decided, TriageInput

HISTORY_DAYS = 7
VERDICTS = ("false_positive", "true_positive")
ACTOR = TRIAGE_REQUESTER
_ENDED = (IncidentStatus.RESOLVED.value, IncidentStatus.CANCELLED.value)


class TriageService:
    def __init__(
        self,
        db: Database,
        registry: WorkflowRegistry,
        settings: TriageSettingsService,
        voters: TriageVoters,
    ) -> None:
        self._db = db
        self._registry = registry
        self._settings = settings
        self._voters = voters

    # --- stages -----------------------------------------------------------------------

    async def classify(self, triage: TriageInput) -> Classified:
        settings = await self._settings.get(org_id=triage.org_id)
        async with self._db.read_session() as session:
            snapshot = await get_snapshot(session, triage.org_id, triage.incident_id)
        done = recorded(snapshot, triage, "classification")
        if done is not None:
            return Classified.model_validate(done)
        # Asked before the write transaction: an LLM may take seconds, a lock must not.
        votes = await self._voters.votes(triage.org_id, jsonable(snapshot), settings.llm_connection)
        async with self._db.session() as session:
            snapshot = await get_snapshot(
                session, triage.org_id, triage.incident_id, for_update=True
            )
            done = recorded(snapshot, triage, "classification")
            if done is not None:
                return Classified.model_validate(done)
            verdict = await _operator_verdict(session, triage)
            if verdict is not None:
                result = _operators(verdict)
            else:
                incident = jsonable(snapshot)
                facts = await _facts(session, incident, settings)
                rules = self._registry.triage_rules()
                found = classify(rules, incident, facts, votes.evidence, votes.notes)
                result = _classified(found, settings)
                result.duplicate_of = list(facts.open_duplicates)
            await record_stage(session, triage, "classified", "analyzing", classification=result)
        return result

    async def close(self, triage: TriageInput) -> Decided:
        async with self._db.session() as session:
            snapshot = await get_snapshot(
                session, triage.org_id, triage.incident_id, for_update=True
            )
            done = recorded(snapshot, triage, "decision")
            if done is not None:
                return Decided.model_validate(done)
            classification = (snapshot.triage or {}).get("classification") or {}
            reason = (
                f"closed as a false positive with confidence {classification.get('confidence')}: "
                + "; ".join(classification.get("reasons") or [])
            )
            if snapshot.status not in _ENDED:
                await append_event(
                    session,
                    org_id=triage.org_id,
                    incident_id=triage.incident_id,
                    type=EventType.STATUS_CHANGED,
                    payload={"from": snapshot.status, "to": "RESOLVED", "reason": reason},
                    actor=ACTOR,
                )
            decided = Decided(status="closed_false_positive", reason=reason)
            await record_stage(session, triage, "closed", decided.status, decision=decided)
            for original in classification.get("duplicate_of") or []:
                await _note_duplicate(session, triage, snapshot, original)
            await self._notify_closed(session, triage, snapshot, reason)
        return decided

    # --- what people do -----------------------------------------------------------------

    async def analysis(self, *, org_id: str, incident_id: str) -> dict[str, Any]:
        async with self._db.read_session() as session:
            snapshot = await get_snapshot(session, org_id, incident_id)
        if not snapshot.triage:
            raise NotFoundError(f"incident {incident_id} has no triage yet")
        analysed = "classification" in snapshot.triage
        return {**snapshot.triage, "analysis_status": "analyzed" if analysed else "created"}

    async def record_verdict(
        self, *, org_id: str, incident_id: str, verdict: str, note: str | None, actor: str
    ) -> dict[str, Any]:
        """An operator's verdict; a true positive on an incident triage closed re-opens it
        (and the re-open starts a new triage, which follows the operator)."""
        if verdict not in VERDICTS:
            raise InvalidInputError(f"verdict: must be one of {', '.join(VERDICTS)}")
        async with self._db.session() as session:
            snapshot = await get_snapshot(session, org_id, incident_id, for_update=True)
            triage = dict(snapshot.triage or {})
            analysis_id = str(triage.get("analysis_id") or f"{org_id}:{incident_id}:manual")
            said = {"verdict": verdict, "note": note, "by": actor}
            status = triage.get("status") or "needs_review"
            reopen = verdict == "true_positive" and status == "closed_false_positive"
            payload = {"analysis_id": analysis_id, "stage": "verdict", "status": status}
            await append_event(
                session,
                org_id=org_id,
                incident_id=incident_id,
                type=EventType.TRIAGED,
                payload={**payload, "operator_verdict": said},
                actor=actor,
            )
            if reopen and snapshot.status in _ENDED:
                await append_event(
                    session,
                    org_id=org_id,
                    incident_id=incident_id,
                    type=EventType.STATUS_CHANGED,
                    payload={
                        "from": snapshot.status,
                        "to": IncidentStatus.OPEN.value,
                        "reason": f"{actor} says it is a real incident: {note or 'no note'}",
                    },
                    actor=actor,
                )
            updated = await get_snapshot(session, org_id, incident_id)
        return {"triage": updated.triage, "reopened": reopen}

    # --- building blocks ----------------------------------------------------------------

    async def _notify_closed(
        self, session: Any, triage: TriageInput, snapshot: IncidentSnapshot, reason: str
    ) -> None:
        base = triage.fireline_url.rstrip("/")
        quoted = quote(triage.incident_id, safe="")
        incident = f"{base}/v1/incidents/{quoted}"
        await add_notification(
            session,
            org_id=triage.org_id,
            title=f"False positive closed: {snapshot.title}"[:200],
            message=f"{reason}. Real after all? Re-open it: POST {incident}/triage/verdict "
            '{"verdict": "true_positive"}',
            severity="info",
            links=[
                {"text": "Incident", "url": f"{base}/incidents/{quoted}", "external": False},
                {"text": "Triage", "url": f"{incident}/triage", "external": False},
            ],
            incident_id=triage.incident_id,
            source=triage.analysis_id,
            dedup_key=f"{triage.analysis_id}/closed",
        )


def _classified(result: Classification, settings: TriageSettings) -> Classified:
    if result.verdict == "false_positive":
        confident = result.confidence >= settings.close_threshold
        closing = closes(result, settings.close_threshold)
        next_step = "close" if closing else "review"
        reasons = list(result.reasons)
        if not confident:
            reasons.append(
                f"below the close threshold {settings.close_threshold}: a person decides"
            )
        elif not closing:
            reasons.append("no rule says so, and a vote never closes alone: a person decides")
        return Classified(
            verdict="false_positive",
            confidence=result.confidence,
            reasons=reasons,
            next_step=next_step,
        )
    return Classified(
        verdict=result.verdict,
        confidence=result.confidence,
        reasons=list(result.reasons),
        next_step="match",
    )


def _operators(verdict: Mapping[str, Any]) -> Classified:
    said = "a real incident" if verdict["verdict"] == "true_positive" else "a false positive"
    reason = f"{verdict.get('by')} said it is {said}" + (
        f": {verdict['note']}" if verdict.get("note") else ""
    )
    # A person's word is followed, but never closes by itself: they can close it.
    return Classified(
        verdict=verdict["verdict"],
        confidence=1.0,
        reasons=[reason],
        next_step="review" if verdict["verdict"] == "false_positive" else "match",
    )


async def _note_duplicate(
    session: Any, triage: TriageInput, duplicate: IncidentSnapshot, original: str
) -> None:
    """The open incident a closed duplicate repeats says so on its timeline."""
    await append_event(
        session,
        org_id=triage.org_id,
        incident_id=original,
        type=EventType.NOTE_ADDED,
        payload={
            "text": f"Triage closed incident {duplicate.id} ({duplicate.title[:200]}) as a "
            "duplicate of this one (same correlation key)."
        },
        actor=ACTOR,
    )


async def _operator_verdict(session: Any, triage: TriageInput) -> Mapping[str, Any] | None:
    """The latest verdict a person gave on this incident, in any analysis."""
    events = await list_events(session, triage.org_id, triage.incident_id)
    verdicts = [
        e.payload["operator_verdict"]
        for e in events
        if e.type == EventType.TRIAGED and e.payload.get("operator_verdict")
    ]
    return verdicts[-1] if verdicts else None


async def _facts(session: Any, incident: dict[str, Any], settings: TriageSettings) -> IncidentFacts:
    now = datetime.now(UTC)
    org, incident_id = incident["org_id"], incident["id"]
    kind, value = fingerprint_of(incident)
    since = now - timedelta(days=HISTORY_DAYS)
    past = await triage_history.past_alerts(session, org, incident_id, kind, value, since)
    duplicates = await triage_history.open_duplicates(
        session, org, incident_id, incident.get("correlation_keys") or []
    )
    return IncidentFacts(
        now=now,
        past=tuple(
            PastAlert(
                created_at=p.created_at,
                resolved_at=p.resolved_at,
                resolved_by_source=p.resolved_by_source,
            )
            for p in past
        ),
        open_duplicates=tuple(duplicates),
        maintenance=_maintenance(settings, incident.get("service"), now),
    )


def _maintenance(settings: TriageSettings, service: str | None, now: datetime) -> str | None:
    for window in settings.maintenance_windows:
        if window.service in (None, service) and window.start <= now < window.end:
            return f"{window.reason} ({window.start:%Y-%m-%d %H:%M} to {window.end:%H:%M} UTC)"
    return None
