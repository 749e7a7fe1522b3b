"""Rank runbooks for one incident in an org: the pure ranking (triage_match.py) fed with
the org's weights and each runbook's record of past sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from dsl.runbook_plan import RunbookPlan
from services.jsonable import jsonable
from services.triage_match import MatchWeights, RankedRunbook, RunbookHistory, rank_runbooks
from services.triage_settings import TriageSettingsService
from store import triage_history
from store.db import Database
from store.incidents import get_snapshot

HISTORY_TEXTS = 20


class RunbookRanker:
    def __init__(self, db: Database, settings: TriageSettingsService) -> None:
        self._db = db
        self._settings = settings

    async def rank(
        self, *, org_id: str, incident_id: str, plans: Sequence[RunbookPlan]
    ) -> list[RankedRunbook]:
        """`plans` ranked for the incident, best first, with each factor."""
        settings = await self._settings.get(org_id=org_id)
        async with self._db.read_session() as session:
            incident = jsonable(await get_snapshot(session, org_id, incident_id))
            outcomes = await triage_history.session_outcomes(session, org_id)
        weights = MatchWeights(**settings.weights.model_dump())
        return rank_runbooks(
            incident, plans, _histories(outcomes), now=datetime.now(UTC), weights=weights
        )


def _histories(outcomes: Sequence[triage_history.SessionOutcomeRow]) -> dict[str, RunbookHistory]:
    by_runbook: dict[str, list[triage_history.SessionOutcomeRow]] = {}
    for outcome in outcomes:
        by_runbook.setdefault(outcome.runbook_id, []).append(outcome)
    return {runbook: _history(rows) for runbook, rows in by_runbook.items()}


def _history(rows: list[triage_history.SessionOutcomeRow]) -> RunbookHistory:
    resolved = [r for r in rows if r.result == "resolved"]
    return RunbookHistory(
        resolved=len(resolved),
        failed=sum(1 for r in rows if r.result == "escalated"),
        last_success=max((r.ts for r in resolved), default=None),
        resolved_texts=tuple(r.incident_text for r in resolved[-HISTORY_TEXTS:]),
    )
