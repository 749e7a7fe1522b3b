"""The triage workflow's stages as activities. The work itself is the triage service's
(services/triage.py), handed in by the worker: activities do not reach up into services."""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from activities.errors import as_activity_failure
from workflows.names import (
    TRIAGE_CLASSIFY_ACTIVITY,
    TRIAGE_CLOSE_ACTIVITY,
    TRIAGE_DECIDE_ACTIVITY,
    TRIAGE_LEARN_ACTIVITY,
    TRIAGE_MATCH_ACTIVITY,
    TRIAGE_VERIFY_ACTIVITY,
)
from workflows.triage_models import (
    Classified,
    Decided,
    DecideInput,
    Learned,
    LearnInput,
    Matched,
    TriageInput,
    VerifyInput,
)


class TriageStages(Protocol):
    async def classify(self, triage: TriageInput) -> Classified: ...
    async def close(self, triage: TriageInput) -> Decided: ...
    async def match(self, triage: TriageInput) -> Matched: ...
    async def decide(self, decide: DecideInput) -> Decided: ...
    async def verify(self, verify: VerifyInput) -> Decided: ...
    async def learn(self, learn: LearnInput) -> Learned: ...


class TriageActivities:
    def __init__(self, stages: TriageStages) -> None:
        self._stages = stages

    @activity.defn(name=TRIAGE_CLASSIFY_ACTIVITY)
    async def classify(self, triage: TriageInput) -> Classified:
        with as_activity_failure(f"classify incident {triage.incident_id}"):
            return await self._stages.classify(triage)

    @activity.defn(name=TRIAGE_CLOSE_ACTIVITY)
    async def close(self, triage: TriageInput) -> Decided:
        with as_activity_failure(f"close false positive {triage.incident_id}"):
            return await self._stages.close(triage)

    @activity.defn(name=TRIAGE_MATCH_ACTIVITY)
    async def match(self, triage: TriageInput) -> Matched:
        with as_activity_failure(f"match runbooks to incident {triage.incident_id}"):
            return await self._stages.match(triage)

    @activity.defn(name=TRIAGE_DECIDE_ACTIVITY)
    async def decide(self, decide: DecideInput) -> Decided:
        with as_activity_failure(f"decide on incident {decide.triage.incident_id}"):
            return await self._stages.decide(decide)

    @activity.defn(name=TRIAGE_VERIFY_ACTIVITY)
    async def verify(self, verify: VerifyInput) -> Decided:
        with as_activity_failure(f"verify session {verify.session_id}"):
            return await self._stages.verify(verify)

    @activity.defn(name=TRIAGE_LEARN_ACTIVITY)
    async def learn(self, learn: LearnInput) -> Learned:
        with as_activity_failure(f"retrain the triage classifier of org {learn.org_id}"):
            return await self._stages.learn(learn)
