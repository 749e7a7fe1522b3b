"""The loaded runbooks, and which of them fit an incident (ranked, with each factor)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import NotFoundError
from services.jsonable import jsonable
from services.runbook_draft import RunbookDraft, draft_runbook
from services.runbook_ranking import RunbookRanker
from services.triage_match import RankedRunbook as Ranking
from services.workflow_registry import RunbookEntry, WorkflowRegistry
from store.db import Database
from store.incidents import get_snapshot


@dataclass(frozen=True)
class RankedRunbook:
    entry: RunbookEntry
    ranking: Ranking


class RunbookCatalog:
    """The loaded runbooks, and which of them fit an incident."""

    def __init__(self, db: Database, registry: WorkflowRegistry, ranker: RunbookRanker) -> None:
        self._db = db
        self._registry = registry
        self._ranker = ranker

    def all(self) -> list[RunbookEntry]:
        return list(self._registry.runbooks)

    def get(self, runbook_id: str) -> RunbookEntry:
        entry = self._registry.find_runbook(runbook_id)
        if entry is None:
            raise unknown_runbook(runbook_id, self._registry)
        return entry

    def source(self, runbook_id: str) -> str:
        """The runbook's YAML as its file holds it now, for people to read."""
        entry = self.get(runbook_id)
        return (self._registry.workflows_dir / entry.file).read_text(encoding="utf-8")

    async def rank(self, org: str, incident_id: str) -> list[RankedRunbook]:
        """Runbooks that compiled, best match first (then by id), with each factor."""
        entries = {e.plan.id: e for e in self._registry.runbooks if e.plan is not None}
        plans = [entry.plan for entry in entries.values() if entry.plan is not None]
        ranking = await self._ranker.rank(org_id=org, incident_id=incident_id, plans=plans)
        return [RankedRunbook(entries[r.runbook_id], r) for r in ranking]

    async def draft(self, org: str, incident_id: str) -> RunbookDraft:
        """A runbook to start from for this kind of incident, with an id no loaded
        runbook has."""
        taken = {e.runbook_id for e in self._registry.runbooks if e.runbook_id}
        return draft_runbook(await _snapshot(self._db, org, incident_id), taken=taken)


async def _snapshot(db: Database, org: str, incident_id: str) -> dict[str, Any]:
    async with db.read_session() as session:
        return jsonable(await get_snapshot(session, org, incident_id))


def unknown_runbook(runbook_id: str, registry: WorkflowRegistry) -> NotFoundError:
    known = sorted({e.runbook_id for e in registry.runbooks if e.runbook_id})
    return NotFoundError(
        f"runbook '{runbook_id}' is not loaded (loaded: {', '.join(known) or 'none'}); "
        "GET /v1/runbooks lists them"
    )
