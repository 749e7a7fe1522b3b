"""Request builders for the incident API tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from api.app import create_app
from api.state import AppState
from core.settings import Settings
from store.db import Database
from store.models import IncidentEventModel, IncidentModel, OutboxModel
from tests.store.helpers import count_rows

JWT_SECRET = "test-secret-with-enough-length-for-hs256"


def fireline_app(db: Database, tmp_path: Path, **settings: Any) -> FastAPI:
    """The real application (middleware, routers, error handlers) without its lifespan."""
    config = Settings(data_dir=tmp_path, database_url=db.url, jwt_secret=JWT_SECRET, **settings)
    app = create_app(config)
    app.state.fireline = AppState(settings=config, db=db, jwt_secret=JWT_SECRET)
    return app


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    body = {"title": "Checkout 5xx", "severity": "SEV2", **fields}
    response = await client.post("/v1/incidents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def stored_row_counts(db: Database) -> tuple[int, int, int]:
    """(incidents, events, outbox rows) across every org."""
    async with db.read_session() as session:
        return (
            await count_rows(session, IncidentModel),
            await count_rows(session, IncidentEventModel),
            await count_rows(session, OutboxModel),
        )


def problems(response: httpx.Response) -> str:
    """A 422's detail as one line, `loc: msg; ...` for a validation list, else as sent."""
    detail = response.json()["detail"]
    if isinstance(detail, str):
        return detail
    for problem in detail:
        assert set(problem) == {"loc", "msg", "type"}, problem  # never the input
    return "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in detail)
