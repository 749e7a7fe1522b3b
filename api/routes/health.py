"""`GET /healthz`: 200 once the API, the database and Temporal answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.state import AppState
from services.health import check_health

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    state: AppState = request.app.state.fireline
    report = await check_health(state.db, state.temporal_client)
    return JSONResponse(report.as_dict(), status_code=200 if report.ok else 503)
