"""An org's triage classifier learns a person's verdict: one activity retrains it from
every verdict the org has given, and stores it as data (services/triage_learning.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.names import TRIAGE_LEARN_ACTIVITY, TRIAGE_LEARN_WORKFLOW
    from workflows.triage_models import Learned, LearnInput


@workflow.defn(name=TRIAGE_LEARN_WORKFLOW)
class TriageLearnWorkflow:
    @workflow.run
    async def run(self, learn: LearnInput) -> Learned:
        learned: Learned = await workflow.execute_activity(
            TRIAGE_LEARN_ACTIVITY,
            learn,
            result_type=Learned,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=2)),
            summary="retrain the org's classifier from its verdicts",
        )
        return learned
