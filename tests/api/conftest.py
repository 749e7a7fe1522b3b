"""A minimal app with only the incident router, on a migrated SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.auth import issue_token
from api.errors import install_error_handlers
from api.routes import incident_timeline, incidents
from api.state import AppState
from core.settings import Settings
from store.db import Database
from tests.api.helpers import JWT_SECRET
from tests.store.databases import sqlite_database

AuthHeaders = Callable[..., dict[str, str]]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(tmp_path) as database:
        yield database


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    settings = Settings(data_dir=tmp_path, database_url=db.url, jwt_secret=JWT_SECRET)
    application = FastAPI()
    application.state.fireline = AppState(settings=settings, db=db, jwt_secret=JWT_SECRET)
    install_error_handlers(application)
    application.include_router(incidents.router)
    application.include_router(incident_timeline.router)
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fireline.test") as http:
        yield http


@pytest.fixture
def auth() -> AuthHeaders:
    """auth("acme", "SRE_LEAD") -> Authorization header for that org and roles."""

    def headers(org: str = "acme", *roles: str) -> dict[str, str]:
        token = issue_token(JWT_SECRET, org=org, roles=roles or ("ORG_ADMIN",), sub=f"{org}-user")
        return {"Authorization": f"Bearer {token}"}

    return headers
