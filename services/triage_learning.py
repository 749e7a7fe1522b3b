"""Learning from people: retrain an org's classifier from every verdict its people gave,
store it as data, and let it vote on a new incident (services/triage_learn.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.triage_learn import MIN_PER_CLASS, LabelledIncident, LearnedVote, predict, train
from store import triage_history, triage_models
from store.db import Database
from workflows.triage_models import Learned, LearnInput


@dataclass(frozen=True)
class LearnerStatus:
    verdicts: int  # operator verdicts it learned from
    votes: bool  # False: it abstains until it has enough of each kind
    trained_at: datetime | None
    reason: str


class TriageLearner:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def retrain(self, learn: LearnInput) -> Learned:
        async with self._db.read_session() as session:
            rows = await triage_history.operator_verdicts(session, learn.org_id)
        examples = [LabelledIncident(row.incident, row.false_positive) for row in rows]
        state = await asyncio.to_thread(train, examples)  # CPU work off the event loop
        async with self._db.session() as session:
            await triage_models.put_model(session, learn.org_id, state, len(examples))
        false_positives = sum(1 for e in examples if e.false_positive)
        return Learned(
            verdicts=len(examples),
            false_positives=false_positives,
            abstains=state is None,
            reason=_reason(len(examples), false_positives, state is None),
        )

    async def status(self, org_id: str) -> LearnerStatus:
        async with self._db.read_session() as session:
            record = await triage_models.get_model(session, org_id)
        if record is None:
            return LearnerStatus(
                verdicts=0, votes=False, trained_at=None, reason=_reason(0, 0, True)
            )
        counts = (record.state or {}).get("counts") or {}
        return LearnerStatus(
            verdicts=record.verdicts,
            votes=record.state is not None,
            trained_at=record.trained_at,
            reason=_reason(record.verdicts, counts.get("false_positive", 0), record.state is None),
        )

    async def vote(self, org_id: str, incident: Mapping[str, Any]) -> LearnedVote | None:
        async with self._db.read_session() as session:
            record = await triage_models.get_model(session, org_id)
        return predict(record.state if record is not None else None, incident)


def _reason(verdicts: int, false_positives: int, abstains: bool) -> str:
    real = verdicts - false_positives
    counted = f"{verdicts} verdict(s): {false_positives} false positive(s), {real} real"
    if abstains:
        return f"{counted}; it votes once it has {MIN_PER_CLASS} of each kind"
    return f"trained on {counted}"
