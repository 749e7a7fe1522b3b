"""The whole application: the API under /v1 and the console's pages beside it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from api.app import create_app as create_api
from console import (
    form_builder_page,
    incident_page,
    incidents_page,
    integrations_page,
    live,
    pages,
    runbooks_page,
    sessions_page,
    settings_page,
    workflows_page,
)
from console.session import CsrfRefused
from core.settings import Settings

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings) -> FastAPI:
    app = create_api(settings)
    app.include_router(pages.router)
    app.include_router(incidents_page.router)
    app.include_router(incident_page.router)
    app.include_router(live.router)
    app.include_router(sessions_page.router)
    app.include_router(workflows_page.router)
    app.include_router(settings_page.router)
    app.include_router(form_builder_page.router)
    app.include_router(integrations_page.router)
    app.include_router(runbooks_page.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(pages.SignInNeeded, pages.sign_in_redirect)
    app.add_exception_handler(CsrfRefused, pages.csrf_refused)
    app.add_exception_handler(RequestValidationError, pages.invalid_request)
    return app
