"""Live output and state of a runbook session: `GET /v1/sessions/{id}/stream` (SSE)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.dependencies import CurrentPrincipal, SessionStreamDep
from notifications.models import SSE_KEEPALIVE, sse_event
from services.session_stream import SessionEvent

router = APIRouter(prefix="/v1", tags=["sessions"])


@router.get(
    "/sessions/{session_id}/stream",
    response_class=StreamingResponse,
    responses={404: {"description": "No such session in the caller's organisation"}},
)
async def stream_session(
    session_id: str, principal: CurrentPrincipal, stream: SessionStreamDep
) -> StreamingResponse:
    """Events `output` {step, purpose, host, pid, attempt, text, gap}, `state` (on each
    change), `error` {message} (e.g. no worker answers; the stream keeps trying) and,
    once the session is over, the last `state` and `end` {status, temporal_status}."""
    events = await stream.follow(principal.org, session_id)  # 404 before streaming
    return StreamingResponse(
        _frames(events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _frames(events: AsyncIterator[SessionEvent | None]) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    async for event in events:
        yield SSE_KEEPALIVE if event is None else sse_event(event.id, event.event, event.data)
