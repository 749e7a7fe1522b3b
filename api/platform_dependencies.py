"""Typed dependencies for the workflow platform: registry, runs, notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.state import AppState
from core.errors import FirelineError
from services.notifications import NotificationFeed
from services.runs import RunService
from services.workflow_registry import WorkflowRegistry


class TemporalUnavailableError(FirelineError):
    pass


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.fireline
    return state


def _registry(request: Request) -> WorkflowRegistry:
    registry: WorkflowRegistry = _state(request).registry
    return registry


def _run_service(request: Request) -> RunService:
    state = _state(request)
    if state.temporal_client is None:
        raise TemporalUnavailableError("Temporal is not connected yet; retry in a moment")
    return RunService(state.db, state.temporal_client, state.registry, state.settings)


def _feed(request: Request) -> NotificationFeed:
    return NotificationFeed(_state(request).db)


RegistryDep = Annotated[WorkflowRegistry, Depends(_registry)]
RunServiceDep = Annotated[RunService, Depends(_run_service)]
NotificationFeedDep = Annotated[NotificationFeed, Depends(_feed)]
