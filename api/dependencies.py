"""Typed `Annotated` dependencies for route signatures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.auth import Principal, current_principal
from api.state import AppState
from services.incidents import IncidentService


def get_app_state(request: Request) -> AppState:
    state: AppState = request.app.state.fireline
    return state


AppStateDep = Annotated[AppState, Depends(get_app_state)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def get_incident_service(state: AppStateDep) -> IncidentService:
    return IncidentService(state.db)


IncidentServiceDep = Annotated[IncidentService, Depends(get_incident_service)]
