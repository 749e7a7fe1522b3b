"""Typed `Annotated` dependencies for route signatures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.auth import Principal, current_principal
from api.state import AppState
from core.errors import FirelineError
from services.incidents import IncidentService
from services.notifications import NotificationFeed
from services.runs import RunService
from services.workflow_registry import WorkflowRegistry


class TemporalUnavailableError(FirelineError):
    """Answered with 503: the API is up but has not reached Temporal yet."""


def get_app_state(request: Request) -> AppState:
    state: AppState = request.app.state.fireline
    return state


AppStateDep = Annotated[AppState, Depends(get_app_state)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def get_incident_service(state: AppStateDep) -> IncidentService:
    return IncidentService(state.db)


def get_registry(state: AppStateDep) -> WorkflowRegistry:
    registry: WorkflowRegistry = state.registry
    return registry


def get_run_service(state: AppStateDep) -> RunService:
    if state.temporal_client is None:
        raise TemporalUnavailableError("Temporal is not connected yet; retry in a moment")
    return RunService(state.db, state.temporal_client, state.registry, state.settings)


def get_notification_feed(state: AppStateDep) -> NotificationFeed:
    return NotificationFeed(state.db)


IncidentServiceDep = Annotated[IncidentService, Depends(get_incident_service)]
RegistryDep = Annotated[WorkflowRegistry, Depends(get_registry)]
RunServiceDep = Annotated[RunService, Depends(get_run_service)]
NotificationFeedDep = Annotated[NotificationFeed, Depends(get_notification_feed)]
