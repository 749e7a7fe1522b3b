"""The worker's triage activities, wired: the stages on a registry read afresh for each
analysis, the learned classifier, and the optional LLM named in the org's settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from temporalio.client import Client

from activities.triage import TriageActivities
from connectors.llm import LlmEndpoint, LlmError, LlmVote, llm_vote
from core.connections import Connections
from core.errors import ProviderNotConfiguredError
from core.settings import Settings
from services.connections import ConnectionService
from services.org_settings import OrgSettingsService
from services.runbook_ranking import RunbookRanker
from services.sessions import SessionService
from services.triage import TriageService
from services.triage_decide import TriageDecider
from services.triage_learning import TriageLearner
from services.triage_settings import TriageSettingsService
from services.triage_votes import TriageVoters
from services.workflow_registry import WorkflowRegistry
from store.db import Database
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

LLM_TYPE = "llm"


def triage_activities(
    client: Client,
    db: Database,
    settings: Settings,
    connections: Callable[[], ConnectionService],
) -> list[Callable[..., Any]]:
    """An edited rules file or runbook applies to the next incident."""
    registry = WorkflowRegistry(settings.workflows_dir, settings.resolved_providers_file)
    triage_settings = TriageSettingsService(db)
    org_settings = OrgSettingsService(db)
    learner = TriageLearner(db)

    async def start_session(
        org: str, incident_id: str, runbook_id: str, requester: str, analysis_id: str
    ) -> str:
        sessions = SessionService(db, client, registry, settings, connections(), org_settings)
        started = await sessions.start(
            org, incident_id, runbook_id, requester, {}, analysis_id=analysis_id
        )
        return started.session_id

    voters = TriageVoters(learner, llm_voter(settings))
    stages = FreshTriage(
        registry,
        TriageService(db, registry, triage_settings, voters),
        TriageDecider(
            db,
            registry,
            RunbookRanker(db, triage_settings),
            triage_settings,
            org_settings,
            start_session,
        ),
        learner,
    )
    activities = TriageActivities(stages)
    return [
        activities.classify,
        activities.close,
        activities.match,
        activities.decide,
        activities.verify,
        activities.learn,
    ]


def llm_voter(settings: Settings) -> Callable[[str, str, Mapping[str, Any]], Any]:
    """Asks the providers-file connection the org named (type llm)."""

    async def vote(org_id: str, name: str, incident: Mapping[str, Any]) -> LlmVote:
        connections = Connections.load(settings.resolved_providers_file)
        try:
            connection = connections.get(name, LLM_TYPE)
        except ProviderNotConfiguredError as err:
            raise LlmError(str(err)) from None
        auth = connection.authentication
        try:
            endpoint = LlmEndpoint(
                base_url=str(auth["base_url"]),
                model=str(auth["model"]),
                api_key=auth.get("api_key"),
                timeout_seconds=float(auth.get("timeout_seconds", 10)),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise LlmError(
                f"connection '{name}' needs authentication.base_url and .model ({err})"
            ) from None
        return await llm_vote(endpoint, incident)

    return vote


class FreshTriage:
    """The triage stages, each classify and match on the definitions as they are now."""

    def __init__(
        self,
        registry: WorkflowRegistry,
        triage: TriageService,
        decider: TriageDecider,
        learner: TriageLearner,
    ) -> None:
        self._registry = registry
        self._triage = triage
        self._decider = decider
        self._learner = learner

    async def classify(self, triage: TriageInput) -> Classified:
        self._registry.reload()
        return await self._triage.classify(triage)

    async def close(self, triage: TriageInput) -> Decided:
        return await self._triage.close(triage)

    async def match(self, triage: TriageInput) -> Matched:
        self._registry.reload()
        return await self._decider.match(triage)

    async def decide(self, decide: DecideInput) -> Decided:
        return await self._decider.decide(decide)

    async def verify(self, verify: VerifyInput) -> Decided:
        return await self._decider.verify(verify)

    async def learn(self, learn: LearnInput) -> Learned:
        return await self._learner.retrain(learn)
