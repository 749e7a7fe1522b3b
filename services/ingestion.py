"""Ingestion use case: a generic incident becomes events, idempotently (DESIGN §5).

The key `(org, source type, source ref)` opens at most one incident. A later delivery for
the same key is compared with what the source said the previous time (`last_state` of
its `incident_sources` row), never with the incident itself, so that:

- a repeated delivery appends nothing and writes nothing;
- a human's edit (a new description, a severity, a cancel) is only overridden when the
  source later says something new about that field;
- only the source's deltas become events: UPDATED for description, service, environment,
  team, region and links; SEVERITY_CHANGED; STATUS_CHANGED for resolve, reopen and
  acknowledge; SIGNAL_INGESTED for evidence not seen before.

The title is set once, by the first delivery: vendors rewrite titles on every transition
("[Resolved] ...", "Recovered: ..."), and those rewrites are not edits.

A status change the incident's lifecycle does not allow (the incident was cancelled, or
resolved by a person while the source only acknowledged) is skipped, never an error: the
outcome's message says so, and the source's statement is kept as a signal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ConflictError
from core.ids import new_id, utcnow
from ingest.model import DEFAULT_SEVERITY, EvidenceItem, GenericIncident, SourceStatus
from services.incidents import check_transition
from store import incidents as incident_store
from store import payloads, sources
from store.db import Database
from store.enums import EventType, IncidentStatus
from store.records import IncidentSnapshot

IngestStatus = Literal["created", "updated", "unchanged"]

DEFAULT_MAX_STORED_PAYLOAD_BYTES = 64 * 1024

# The fields a later delivery may change on the incident (through INCIDENT_UPDATED).
SOURCE_UPDATABLE_FIELDS = ("description", "service", "environment", "team", "region", "links")


@dataclass(frozen=True)
class RawPayload:
    """The request body as received, kept (cut to a bounded size) for audit and replay."""

    body: bytes
    content_type: str | None = None
    delivery_id: str | None = None


@dataclass(frozen=True)
class IngestOutcome:
    incident_id: str
    status: IngestStatus
    message: str
    source_type: str
    source_ref: str
    events: tuple[str, ...] = ()


class IngestService:
    """Turns generic incidents into incident events; see the module docstring."""

    def __init__(
        self,
        db: Database,
        *,
        max_stored_payload_bytes: int = DEFAULT_MAX_STORED_PAYLOAD_BYTES,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._max_stored_payload_bytes = max_stored_payload_bytes
        self._on_commit = on_commit

    async def ingest(
        self,
        *,
        org_id: str,
        actor: str,
        incident: GenericIncident,
        raw: RawPayload | None = None,
    ) -> IngestOutcome:
        outcomes = await self.ingest_many(org_id=org_id, actor=actor, incidents=[incident], raw=raw)
        return outcomes[0]

    async def ingest_many(
        self,
        *,
        org_id: str,
        actor: str,
        incidents: Sequence[GenericIncident],
        raw: RawPayload | None = None,
    ) -> list[IngestOutcome]:
        """All incidents in ONE transaction: every outcome is committed, or none is.

        Outcomes follow the input order. `raw` is stored once, and only when some
        outcome is not "unchanged"; `on_commit` runs after a commit that appended events
        (it must not raise: the data is committed by then).
        """
        if not incidents:
            return []
        async with self._db.session() as session:
            outcomes = await _Batch(session, org_id, actor).run(incidents)
            if raw is not None and any(o.status != "unchanged" for o in outcomes):
                self._store_payload(session, org_id, incidents[0], outcomes, raw)
        if self._on_commit is not None and any(o.events for o in outcomes):
            self._on_commit()
        return outcomes

    def _store_payload(
        self,
        session: AsyncSession,
        org_id: str,
        first: GenericIncident,
        outcomes: Sequence[IngestOutcome],
        raw: RawPayload,
    ) -> None:
        payloads.add(
            session,
            org_id=org_id,
            source_type=first.source_type.value,
            delivery_id=raw.delivery_id,
            incident_ids=list(dict.fromkeys(o.incident_id for o in outcomes)),
            received_at=utcnow(),
            content_type=raw.content_type,
            body=raw.body,
            max_bytes=self._max_stored_payload_bytes,
        )


@dataclass
class _Known:
    """A key's incident and what its source said last, as this transaction sees them."""

    incident_id: str
    last_state: dict[str, Any] | None  # None: claimed here, the incident is not created yet
    signal_keys: list[str]


class _Batch:
    """One transaction's work over a list of incidents."""

    def __init__(self, session: AsyncSession, org_id: str, actor: str) -> None:
        self._session = session
        self._org_id = org_id
        self._actor = actor
        self._now = utcnow()
        self._known: dict[tuple[str, str], _Known] = {}

    async def run(self, incidents: Sequence[GenericIncident]) -> list[IngestOutcome]:
        # Sorted: two batches sharing keys lock them in the same order, never deadlock.
        for key in sorted({_key(incident) for incident in incidents}):
            self._known[key] = await self._lock_or_claim(*key)
        return [await self._ingest(incident) for incident in incidents]

    async def _lock_or_claim(self, source_type: str, source_ref: str) -> _Known:
        found = await sources.get(
            self._session, self._org_id, source_type, source_ref, for_update=True
        )
        if found is None:
            incident_id = new_id("inc")
            claimed = await sources.claim(
                self._session,
                org_id=self._org_id,
                source_type=source_type,
                source_ref=source_ref,
                incident_id=incident_id,
                now=self._now,
            )
            if claimed:
                return _Known(incident_id, None, [])
            # Another transaction committed the key while we waited on its insert.
            found = await sources.get(
                self._session, self._org_id, source_type, source_ref, for_update=True
            )
            if found is None:
                raise RuntimeError(f"ingestion key {source_type} {source_ref} vanished")
        return _Known(found.incident_id, dict(found.last_state), list(found.signal_keys))

    async def _ingest(self, incident: GenericIncident) -> IngestOutcome:
        known = self._known[_key(incident)]
        if known.last_state is None:
            plan = plan_creation(incident)
        else:
            snapshot = await incident_store.get_snapshot(
                self._session, self._org_id, known.incident_id, for_update=True
            )
            plan = plan_update(incident, known.last_state, known.signal_keys, snapshot)
        if plan.events:
            await incident_store.append_events(
                self._session,
                org_id=self._org_id,
                incident_id=known.incident_id,
                events=plan.events,
                actor=self._actor,
            )
        await self._remember(incident, known, plan)
        return IngestOutcome(
            incident_id=known.incident_id,
            status=plan.status,
            message=plan.message(known.incident_id, incident),
            source_type=incident.source_type.value,
            source_ref=incident.source_ref,
            events=tuple(event_type.value for event_type, _ in plan.events),
        )

    async def _remember(self, incident: GenericIncident, known: _Known, plan: _Plan) -> None:
        """Write what the source said, when it said something new (a repeat writes nothing)."""
        state = merged_state(known.last_state or {}, source_state(incident))
        signal_keys = known.signal_keys + plan.signal_keys
        if state == known.last_state and signal_keys == known.signal_keys:
            return
        await sources.save_state(
            self._session,
            org_id=self._org_id,
            source_type=incident.source_type.value,
            source_ref=incident.source_ref,
            last_state=state,
            signal_keys=signal_keys,
            now=self._now,
        )
        known.last_state, known.signal_keys = state, signal_keys


def _key(incident: GenericIncident) -> tuple[str, str]:
    return incident.source_type.value, incident.source_ref


# --- what the source says ---------------------------------------------------------------


def source_state(incident: GenericIncident) -> dict[str, Any]:
    """What the source says now, JSON-ready. None means it says nothing about a field
    (no severity given, no links), so an omission never counts as a change. The title is
    left out: it is never updated (see the module docstring)."""
    return {
        "status": incident.effective_status.value,
        "severity": incident.severity_level if incident.severity is not None else None,
        "original_severity": incident.original_severity,
        "description": incident.description,
        "service": incident.metadata.service,
        "environment": incident.metadata.environment,
        "team": incident.metadata.team,
        "region": incident.metadata.region,
        "links": _links(incident) or None,
        "resolved_at": _iso(incident.resolved_at),
    }


def merged_state(last: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """What the source said last about each field: new values win, omissions keep old ones."""
    return {**last, **{name: value for name, value in now.items() if value is not None}}


def _links(incident: GenericIncident) -> list[dict[str, Any]]:
    return [{"url": link.url, "label": link.label} for link in incident.links]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- planning: which events a delivery becomes ----------------------------------------------

Planned = tuple[EventType, dict[str, Any]]


@dataclass
class _Plan:
    status: IngestStatus
    events: list[Planned] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # "status OPEN → RESOLVED", ...
    notes: list[str] = field(default_factory=list)  # status changes that were skipped
    signal_keys: list[str] = field(default_factory=list)
    evidence_count: int = 0

    def add_signal(self, payload: dict[str, Any]) -> None:
        self.events.append((EventType.SIGNAL_INGESTED, payload))
        self.signal_keys.append(payload["key"])

    def message(self, incident_id: str, incident: GenericIncident) -> str:
        parts = [*self.changes]
        if self.evidence_count:
            plural = "s" if self.evidence_count != 1 else ""
            parts.append(f"{self.evidence_count} new signal{plural}")
        parts.extend(self.notes)
        if self.status == "created":
            source = f"{incident.source_type.value} {incident.source_ref}"
            return "; ".join([f"created incident {incident_id} ({source})", *parts])
        if self.status == "updated":
            return "updated: " + "; ".join(parts)
        return "unchanged: " + "; ".join(parts or ["nothing new since the last delivery"])


def plan_creation(incident: GenericIncident) -> _Plan:
    """CREATED, the status the source reports (acknowledged/resolved), then its evidence."""
    plan = _Plan(status="created")
    plan.events.append((EventType.CREATED, created_payload(incident)))
    _plan_status(plan, incident, SourceStatus.OPEN, IncidentStatus.OPEN, known_keys=())
    _plan_evidence(plan, incident, known_keys=())
    return plan


def created_payload(incident: GenericIncident) -> dict[str, Any]:
    return {
        "title": incident.title,
        "severity": incident.severity_level,
        "original_severity": incident.original_severity
        or (incident.severity or DEFAULT_SEVERITY).value,
        "description": incident.description,
        "service": incident.metadata.service,
        "environment": incident.metadata.environment,
        "team": incident.metadata.team,
        "region": incident.metadata.region,
        "tags": list(incident.metadata.tags),
        "source_type": incident.source_type.value,
        "source_ref": incident.source_ref,
        "started_at": incident.timeline.start.isoformat(),
        "links": _links(incident),
        "custom_fields": dict(incident.metadata.custom_fields),
    }


def plan_update(
    incident: GenericIncident,
    last_state: dict[str, Any],
    signal_keys: Sequence[str],
    snapshot: IncidentSnapshot,
) -> _Plan:
    """Only what the source changed since `last_state`, and only where the incident differs."""
    plan = _Plan(status="unchanged")
    now = source_state(incident)
    _plan_fields(plan, now, last_state, snapshot)
    _plan_severity(plan, incident, now, last_state, snapshot)
    last_status = SourceStatus(last_state.get("status", SourceStatus.OPEN))
    current = IncidentStatus(snapshot.status)
    _plan_status(plan, incident, last_status, current, known_keys=signal_keys)
    _plan_evidence(plan, incident, known_keys=signal_keys)
    if plan.events:
        plan.status = "updated"
    elif not plan.notes and merged_state(last_state, now) != last_state:
        plan.notes.append("the incident already shows what the source says")
    return plan


def _plan_fields(
    plan: _Plan, now: dict[str, Any], last: dict[str, Any], snapshot: IncidentSnapshot
) -> None:
    changes = {
        name: now[name]
        for name in SOURCE_UPDATABLE_FIELDS
        if now[name] is not None
        and now[name] != last.get(name)
        and now[name] != getattr(snapshot, name)
    }
    if changes:
        plan.events.append((EventType.UPDATED, {"changes": changes}))
        plan.changes.append(f"{', '.join(changes)} changed")


def _plan_severity(
    plan: _Plan,
    incident: GenericIncident,
    now: dict[str, Any],
    last: dict[str, Any],
    snapshot: IncidentSnapshot,
) -> None:
    level = now["severity"]
    if level is None or level == last.get("severity") or level == snapshot.severity:
        return
    said = incident.original_severity or (incident.severity.value if incident.severity else level)
    reason = f"{incident.source_type.value} severity is now {said}"
    plan.events.append(
        (EventType.SEVERITY_CHANGED, {"from": snapshot.severity, "to": level, "reason": reason})
    )
    plan.changes.append(f"severity {snapshot.severity} → {level}")


# The incident statuses that already satisfy what the source says.
_ALREADY_THERE = {
    IncidentStatus.RESOLVED: {IncidentStatus.RESOLVED},
    IncidentStatus.OPEN: {
        IncidentStatus.OPEN,
        IncidentStatus.INVESTIGATING,
        IncidentStatus.MITIGATED,
    },
    IncidentStatus.INVESTIGATING: {IncidentStatus.INVESTIGATING, IncidentStatus.MITIGATED},
}


def status_targets(last: SourceStatus, now: SourceStatus) -> list[IncidentStatus]:
    """The incident statuses a source moving from `last` to `now` asks for, in order."""
    if now == last:
        return []
    if now == SourceStatus.RESOLVED:
        return [IncidentStatus.RESOLVED]
    targets = [IncidentStatus.OPEN] if last == SourceStatus.RESOLVED else []
    if now == SourceStatus.ACKNOWLEDGED:
        targets.append(IncidentStatus.INVESTIGATING)
    return targets


def _plan_status(
    plan: _Plan,
    incident: GenericIncident,
    last: SourceStatus,
    current: IncidentStatus,
    known_keys: Sequence[str],
) -> None:
    now = incident.effective_status
    reason = f"{incident.source_type.value} says {now.value}"
    for target in status_targets(last, now):
        if current in _ALREADY_THERE[target]:
            continue
        try:
            check_transition(current, target)
        except ConflictError:
            _plan_skipped_status(plan, incident, last, current, known_keys)
            return
        payload: dict[str, Any] = {"from": current.value, "to": target.value, "reason": reason}
        if target == IncidentStatus.RESOLVED:
            payload["resolved_at"] = _iso(incident.resolved_at)
        plan.events.append((EventType.STATUS_CHANGED, payload))
        plan.changes.append(f"status {current.value} → {target.value}")
        current = target


def _plan_skipped_status(
    plan: _Plan,
    incident: GenericIncident,
    last: SourceStatus,
    current: IncidentStatus,
    known_keys: Sequence[str],
) -> None:
    """Keep the source's word as a signal (once); the incident's own lifecycle wins."""
    now = incident.effective_status
    said = "reopened" if last == SourceStatus.RESOLVED else now.value
    data = {"source_status": said, "incident_status": current.value}
    if incident.resolved_at is not None and now == SourceStatus.RESOLVED:
        data["resolved_at"] = incident.resolved_at.isoformat()
    key = signal_key("events", data)
    if key in known_keys:
        plan.notes.append(f"the incident is {current.value}; the source's '{said}' was not applied")
        return
    plan.add_signal(
        {
            "source": incident.source_type.value,
            "kind": "events",
            "summary": f"{incident.source_type.value} says {said}; not applied: "
            f"the incident is {current.value}",
            "ts": data.get("resolved_at"),
            "trace_id": None,
            "correlation_key": None,
            "data": data,
            "key": key,
        }
    )
    plan.notes.append(
        f"the incident is {current.value}; the source's '{said}' was recorded as a signal only"
    )


def _plan_evidence(plan: _Plan, incident: GenericIncident, known_keys: Sequence[str]) -> None:
    seen = {*known_keys, *plan.signal_keys}
    for kind, item in incident.evidence_lite.items():
        payload = evidence_payload(incident, kind, item)
        if payload["key"] in seen:
            continue
        seen.add(payload["key"])
        plan.add_signal(payload)
        plan.evidence_count += 1


def evidence_payload(incident: GenericIncident, kind: str, item: EvidenceItem) -> dict[str, Any]:
    """The SIGNAL_INGESTED payload of one evidence item; `key` identifies its content."""
    data = item.model_dump(by_alias=True, mode="json", exclude_none=True)
    return {
        "source": incident.source_type.value,
        "kind": kind,
        "summary": item.message or item.name or kind,
        "ts": _iso(item.timestamp),
        "trace_id": item.trace_id,
        "correlation_key": item.correlation_key,
        "data": data,
        "key": signal_key(kind, data),
    }


def signal_key(kind: str, data: dict[str, Any]) -> str:
    """First 16 hex digits of SHA-256 over the canonical JSON of kind and data."""
    canonical = json.dumps(
        {"kind": kind, "data": data}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
