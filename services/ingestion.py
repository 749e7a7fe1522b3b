"""Ingestion use case: a generic incident becomes events, idempotently (DESIGN §5).

The key `(org, source type, source ref)` opens at most one incident. A later delivery for
the same key is compared with what the source said the previous time (`last_state` of
its `incident_sources` row), never with the incident itself, so that:

- a repeated delivery appends nothing and writes nothing;
- a human's edit (a new description, a severity, a cancel) is only overridden when the
  source later says something new about that field;
- only the source's deltas become events: UPDATED for description, service, environment,
  team, region, links, the timeline's end and detectedAt, and the collection context;
  SEVERITY_CHANGED; STATUS_CHANGED for resolve, reopen and acknowledge; SIGNAL_INGESTED
  for evidence not seen before; LINKED_TO_TICKET for the vendor ticket an incident
  mirrors (`ticket`: a ServiceNow record), once (services/ingest_plan.py decides which).

The evidence and source payload a delivery carries are kept as an evidence bundle
(services/evidence.py) in the same transaction; a repeat names the bundle stored already.

The title is set once, by the first delivery: vendors rewrite titles on every transition
("[Resolved] ...", "Recovered: ..."), and those rewrites are not edits.

A status change the incident's lifecycle does not allow (the incident was cancelled, or
resolved by a person while the source only acknowledged) is skipped, never an error: the
outcome's message says so, and the source's statement is kept as a signal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import new_id, utcnow
from ingest.model import GenericIncident
from services.evidence import BundleContent, bundle_content
from services.ingest_plan import (
    IngestPlan,
    IngestStatus,
    merged_state,
    plan_creation,
    plan_update,
    source_state,
)
from store import evidence as evidence_store
from store import incidents as incident_store
from store import outbox, payloads, sources
from store.db import Database
from store.records import StoredEvent
from workflows.names import triage_run_id

__all__ = ["IngestOutcome", "IngestService", "IngestStatus", "RawPayload"]

DEFAULT_MAX_STORED_PAYLOAD_BYTES = 64 * 1024


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
    evidence_bundle_id: str | None = None  # None: the delivery had no evidence, no payload
    analysis_id: str | None = None  # the triage this delivery started (created or re-opened)


class IngestService:
    """Turns generic incidents into incident events; see the module docstring."""

    def __init__(
        self,
        db: Database,
        *,
        max_stored_payload_bytes: int = DEFAULT_MAX_STORED_PAYLOAD_BYTES,
        on_commit: Callable[[], None] | None = None,
        triage: bool = False,
    ) -> None:
        self._db = db
        self._max_stored_payload_bytes = max_stored_payload_bytes
        self._on_commit = on_commit
        self._triage = triage  # the dispatcher triages new and re-opened incidents

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
            outcomes = await _Batch(session, org_id, actor, self._triage).run(incidents)
            if raw is not None and any(o.status != "unchanged" for o in outcomes):
                await self._store_payload(session, org_id, incidents[0], outcomes, raw)
        if self._on_commit is not None and any(o.events for o in outcomes):
            self._on_commit()
        return outcomes

    async def _store_payload(
        self,
        session: AsyncSession,
        org_id: str,
        first: GenericIncident,
        outcomes: Sequence[IngestOutcome],
        raw: RawPayload,
    ) -> None:
        await payloads.add(
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
    last_state: dict[str, Any]
    signal_keys: list[str]
    creation: IngestPlan | None = None  # claimed here: the plan of the incident it opens


class _Batch:
    """One transaction's work over a list of incidents."""

    def __init__(self, session: AsyncSession, org_id: str, actor: str, triage: bool) -> None:
        self._session = session
        self._org_id = org_id
        self._actor = actor
        self._triage = triage
        self._now = utcnow()
        self._known: dict[tuple[str, str], _Known] = {}
        self._bundles: dict[str, tuple[str, BundleContent]] = {}  # id -> (incident, content)

    async def run(self, incidents: Sequence[GenericIncident]) -> list[IngestOutcome]:
        # Worked out before the first statement, which takes SQLite's only writer.
        bundles = [bundle_content(incident) for incident in incidents]
        firsts: dict[tuple[str, str], GenericIncident] = {}
        for incident in incidents:
            firsts.setdefault(_key(incident), incident)
        # Sorted: two batches sharing keys lock them in the same order, never deadlock.
        for key in sorted(firsts):
            self._known[key] = await self._claim_or_lock(firsts[key])
        outcomes = [
            await self._ingest(incident, bundle)
            for incident, bundle in zip(incidents, bundles, strict=True)
        ]
        await self._store_bundles()
        return outcomes

    async def _claim_or_lock(self, first: GenericIncident) -> _Known:
        """Claim the key for a new incident, stating what `first` says (one statement for
        a new key), else lock the row another delivery claimed.

        On PostgreSQL a claim racing another transaction's uncommitted claim of the same
        key waits for it: once that one commits the claim finds the key taken, and the
        lock then sees that row, so two first deliveries never open two incidents."""
        source_type, source_ref = _key(first)
        plan = plan_creation(first)
        state = merged_state({}, source_state(first))
        incident_id = new_id("inc")
        claimed = await sources.claim(
            self._session,
            org_id=self._org_id,
            source_type=source_type,
            source_ref=source_ref,
            incident_id=incident_id,
            last_state=state,
            signal_keys=plan.signal_keys,
            now=self._now,
        )
        if claimed:
            return _Known(incident_id, state, list(plan.signal_keys), creation=plan)
        found = await sources.get(
            self._session, self._org_id, source_type, source_ref, for_update=True
        )
        if found is None:
            raise RuntimeError(f"ingestion key {source_type} {source_ref} vanished")
        return _Known(found.incident_id, dict(found.last_state), list(found.signal_keys))

    async def _ingest(
        self, incident: GenericIncident, bundle: BundleContent | None
    ) -> IngestOutcome:
        known = self._known[_key(incident)]
        plan, new_incident = known.creation, known.creation is not None
        if plan is None:
            snapshot = await incident_store.get_snapshot(
                self._session, self._org_id, known.incident_id, for_update=True
            )
            plan = plan_update(incident, known.last_state, known.signal_keys, snapshot)
        known.creation = None  # the key's next delivery in this batch updates it
        stored: list[StoredEvent] = []
        if plan.events:
            stored = await incident_store.append_events(
                self._session,
                org_id=self._org_id,
                incident_id=known.incident_id,
                events=plan.events,
                actor=self._actor,
                new_incident=new_incident,
            )
        if not new_incident:  # a claim already stated what the first delivery says
            await self._remember(incident, known, plan)
        if bundle is not None:
            self._bundles.setdefault(bundle.bundle_id, (known.incident_id, bundle))
        return IngestOutcome(
            incident_id=known.incident_id,
            status=plan.status,
            message=plan.message(known.incident_id, incident),
            source_type=incident.source_type.value,
            source_ref=incident.source_ref,
            events=tuple(event_type.value for event_type, _ in plan.events),
            evidence_bundle_id=bundle.bundle_id if bundle is not None else None,
            analysis_id=self._analysis_id(known.incident_id, stored),
        )

    def _analysis_id(self, incident_id: str, stored: list[StoredEvent]) -> str | None:
        if not self._triage:
            return None
        seq = next((e.seq for e in stored if outbox.starts_triage(e)), None)
        return triage_run_id(self._org_id, incident_id, seq) if seq is not None else None

    async def _store_bundles(self) -> None:
        """Add the batch's bundles an org does not have yet. In id order, after every key
        is locked: two batches carrying the same bundles never wait on each other in a
        cycle."""
        for bundle_id in sorted(self._bundles):
            incident_id, bundle = self._bundles[bundle_id]
            await evidence_store.add_if_absent(
                self._session,
                org_id=self._org_id,
                bundle_id=bundle_id,
                incident_id=incident_id,
                evidence=bundle.evidence,
                source_payload=bundle.source_payload,
                now=self._now,
            )

    async def _remember(self, incident: GenericIncident, known: _Known, plan: IngestPlan) -> None:
        """Write what the source said, when it said something new (a repeat writes nothing)."""
        state = merged_state(known.last_state, source_state(incident))
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
