"""Typed `Annotated` dependencies for route signatures."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from api.auth import Principal, current_principal
from api.state import AppState
from core.errors import RateLimitedError, ServiceUnavailableError
from services.approvals import ApprovalService
from services.connections import ConnectionService
from services.evidence import EvidenceService
from services.forms import FormService
from services.idempotency import IdempotencyService
from services.incident_timeline import IncidentTimelineService
from services.incidents import IncidentService
from services.ingestion import IngestService
from services.notifications import NotificationFeed
from services.org_settings import OrgSettingsService
from services.runbook_catalog import RunbookCatalog
from services.runbook_ranking import RunbookRanker
from services.runs import RunService
from services.session_stream import SessionStream
from services.sessions import SessionService
from services.tickets import TicketService
from services.triage import TriageService
from services.triage_learning import TriageLearner
from services.triage_settings import TriageSettingsService
from services.triage_votes import TriageVoters
from services.webhook_config import WebhookConfigService
from services.webhook_echoes import OwnAccounts
from services.webhooks import WebhookService
from services.workflow_registry import WorkflowRegistry


class TemporalUnavailableError(ServiceUnavailableError):
    """Answered with 503: the API is up but has not reached Temporal yet."""


async def get_app_state(request: Request) -> AppState:
    state: AppState = request.app.state.fireline
    return state


AppStateDep = Annotated[AppState, Depends(get_app_state)]


def temporal_client(state: AppState) -> Client:
    """The API's Temporal client; 503 until the lifespan has connected it."""
    if state.temporal_client is None:
        raise TemporalUnavailableError("Temporal is not connected yet; retry in a moment")
    client: Client = state.temporal_client
    return client


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def get_incident_service(state: AppStateDep) -> IncidentService:
    return IncidentService(state.db)


async def get_timeline_service(state: AppStateDep) -> IncidentTimelineService:
    return IncidentTimelineService(state.db)


async def get_evidence_service(state: AppStateDep) -> EvidenceService:
    return EvidenceService(state.db)


async def get_form_service(state: AppStateDep) -> FormService:
    return FormService(state.db)


async def get_registry(state: AppStateDep) -> WorkflowRegistry:
    registry: WorkflowRegistry = state.registry
    return registry


async def get_run_service(state: AppStateDep) -> RunService:
    return RunService(state.db, temporal_client(state), state.registry, state.settings)


async def get_session_stream(state: AppStateDep) -> SessionStream:
    return SessionStream(temporal_client(state))


async def get_notification_feed(state: AppStateDep) -> NotificationFeed:
    return NotificationFeed(state.db)


async def get_ingest_service(state: AppStateDep) -> IngestService:
    return IngestService(
        state.db,
        max_stored_payload_bytes=state.settings.max_stored_payload_bytes,
        on_commit=_dispatcher_waker(state),
        triage=state.settings.triage_enabled,
    )


async def get_webhook_config_service(state: AppStateDep) -> WebhookConfigService:
    return WebhookConfigService(state.db, state.secrets, state.settings.resolved_public_url)


async def get_connection_service(state: AppStateDep) -> ConnectionService:
    return ConnectionService(state.db, state.secrets)


async def get_org_settings_service(state: AppStateDep) -> OrgSettingsService:
    return OrgSettingsService(state.db)


async def get_triage_settings_service(state: AppStateDep) -> TriageSettingsService:
    return TriageSettingsService(state.db)


async def get_triage_learner(state: AppStateDep) -> TriageLearner:
    return TriageLearner(state.db)


async def get_triage_service(state: AppStateDep) -> TriageService:
    voters = TriageVoters(TriageLearner(state.db))  # the API only reads and records
    return TriageService(state.db, state.registry, TriageSettingsService(state.db), voters)


async def get_approval_service(state: AppStateDep) -> ApprovalService:
    return ApprovalService(temporal_client(state), state.settings)


async def get_idempotency_service(state: AppStateDep) -> IdempotencyService:
    return IdempotencyService(state.db)


async def get_runbook_catalog(state: AppStateDep) -> RunbookCatalog:
    ranker = RunbookRanker(state.db, TriageSettingsService(state.db))
    return RunbookCatalog(state.db, state.registry, ranker)


async def get_ticket_service(
    state: AppStateDep,
    connections: Annotated[ConnectionService, Depends(get_connection_service)],
    catalog: Annotated[RunbookCatalog, Depends(get_runbook_catalog)],
) -> TicketService:
    return TicketService(IncidentService(state.db), catalog, connections)


async def get_session_service(
    state: AppStateDep,
    connections: Annotated[ConnectionService, Depends(get_connection_service)],
    org_settings: Annotated[OrgSettingsService, Depends(get_org_settings_service)],
) -> SessionService:
    return SessionService(
        state.db, temporal_client(state), state.registry, state.settings, connections, org_settings
    )


async def get_webhook_service(
    state: AppStateDep,
    configs: Annotated[WebhookConfigService, Depends(get_webhook_config_service)],
    ingest: Annotated[IngestService, Depends(get_ingest_service)],
    connections: Annotated[ConnectionService, Depends(get_connection_service)],
) -> WebhookService:
    own_accounts = OwnAccounts(state.settings.resolved_providers_file, connections)
    return WebhookService(configs, ingest, own_accounts)


def _dispatcher_waker(state: AppState) -> Callable[[], None]:
    """Wake the dispatcher after a commit, so new outbox rows do not wait for its poll."""

    def wake() -> None:
        if state.dispatcher is not None:
            state.dispatcher.wake()

    return wake


def charge_ingest(state: AppState, org_id: str) -> None:
    """Take one ingestion request from `org_id`'s budget; RateLimitedError (429) when spent."""
    wait = state.ingest_limiter.acquire(org_id)
    if wait is None:
        return
    settings = state.settings
    raise RateLimitedError(
        f"too many ingestion requests for this organisation: the limit is "
        f"{settings.ingest_rate:g} per second with bursts of {settings.ingest_burst} "
        f"(FIRELINE_INGEST_RATE, FIRELINE_INGEST_BURST); retry in {wait:.2f} s",
        retry_after_seconds=max(1, math.ceil(wait)),
    )


async def get_ingest_rate_limit(state: AppStateDep) -> Callable[[str], None]:
    """`rate_limit(org_id)` in a handler: charge after authentication, before the body."""

    def rate_limit(org_id: str) -> None:
        charge_ingest(state, org_id)

    return rate_limit


IncidentServiceDep = Annotated[IncidentService, Depends(get_incident_service)]
TimelineServiceDep = Annotated[IncidentTimelineService, Depends(get_timeline_service)]
EvidenceServiceDep = Annotated[EvidenceService, Depends(get_evidence_service)]
FormServiceDep = Annotated[FormService, Depends(get_form_service)]
IngestServiceDep = Annotated[IngestService, Depends(get_ingest_service)]
WebhookConfigServiceDep = Annotated[WebhookConfigService, Depends(get_webhook_config_service)]
WebhookServiceDep = Annotated[WebhookService, Depends(get_webhook_service)]
IngestRateLimitDep = Annotated[Callable[[str], None], Depends(get_ingest_rate_limit)]
RegistryDep = Annotated[WorkflowRegistry, Depends(get_registry)]
RunServiceDep = Annotated[RunService, Depends(get_run_service)]
NotificationFeedDep = Annotated[NotificationFeed, Depends(get_notification_feed)]
SessionStreamDep = Annotated[SessionStream, Depends(get_session_stream)]
ConnectionServiceDep = Annotated[ConnectionService, Depends(get_connection_service)]
OrgSettingsServiceDep = Annotated[OrgSettingsService, Depends(get_org_settings_service)]
TriageSettingsServiceDep = Annotated[TriageSettingsService, Depends(get_triage_settings_service)]
TicketServiceDep = Annotated[TicketService, Depends(get_ticket_service)]
TriageLearnerDep = Annotated[TriageLearner, Depends(get_triage_learner)]
TriageServiceDep = Annotated[TriageService, Depends(get_triage_service)]
RunbookCatalogDep = Annotated[RunbookCatalog, Depends(get_runbook_catalog)]
SessionServiceDep = Annotated[SessionService, Depends(get_session_service)]
ApprovalServiceDep = Annotated[ApprovalService, Depends(get_approval_service)]
IdempotencyServiceDep = Annotated[IdempotencyService, Depends(get_idempotency_service)]
