"""The `Idempotency-Key` header on a route: one parameter, and the handler's one call.

    @router.post("/things", status_code=201, response_model=ThingOut)
    async def create(body: ThingIn, ..., idempotent: Idempotent) -> Response:
        return await idempotent(lambda: things.create(...), status_code=201)

Without the header the action just runs. With it, services.idempotency decides: the
first answer is kept and a retry gets it back with `Idempotent-Replayed: true`. The
action's errors are answered as usual (`{"detail": ...}`); a final refusal is kept too.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.dependencies import CurrentPrincipal, IdempotencyServiceDep
from api.errors import STATUS_BY_ERROR
from core.errors import FirelineError
from services.idempotency import Answer, IdempotencyService, checked_key, fingerprint

REPLAYED_HEADER = "Idempotent-Replayed"

Action = Callable[[], Awaitable[Any]]


class IdempotentCall:
    """Runs a route's action under the request's Idempotency-Key (if it sent one)."""

    def __init__(
        self, service: IdempotencyService, org: str, key: str | None, request_fingerprint: str
    ) -> None:
        self._service = service
        self._org = org
        self.key = key  # None: the request sent no Idempotency-Key
        self._fingerprint = request_fingerprint

    async def __call__(self, action: Action, status_code: int = 200) -> Response:
        if self.key is None:
            return JSONResponse(jsonable_encoder(await action()), status_code=status_code)
        answer = await self._service.run(
            self._org, self.key, self._fingerprint, lambda: _answer(action, status_code)
        )
        headers = {REPLAYED_HEADER: "true"} if answer.replayed else None
        return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


async def idempotent_call(
    request: Request,
    principal: CurrentPrincipal,
    service: IdempotencyServiceDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="A unique value per request (e.g. a UUID): a retry with the same "
            "key gets the first answer instead of acting twice. Kept for 24 hours."
        ),
    ] = None,
) -> IdempotentCall:
    if idempotency_key is None:
        return IdempotentCall(service, principal.org, None, "")
    key = checked_key(idempotency_key)
    body = _canonical_body(await request.body())
    request_fingerprint = fingerprint(request.method, request.url.path, principal.sub, body)
    return IdempotentCall(service, principal.org, key, request_fingerprint)


Idempotent = Annotated[IdempotentCall, Depends(idempotent_call)]


async def _answer(action: Action, status_code: int) -> Answer:
    """The action's answer; a refusal becomes an answer too (kept when it is final)."""
    try:
        result = await action()
    except (FirelineError, HTTPException) as err:
        refused = _refusal(err)
        if refused is None or not refused.is_final:
            raise
        return refused
    return Answer(status_code, jsonable_encoder(result))


def _refusal(err: FirelineError | HTTPException) -> Answer | None:
    if isinstance(err, HTTPException):
        return Answer(err.status_code, {"detail": err.detail})
    status_code = next(
        (STATUS_BY_ERROR[cls] for cls in type(err).__mro__ if cls in STATUS_BY_ERROR), None
    )
    return None if status_code is None else Answer(status_code, {"detail": str(err)})


def _canonical_body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:  # not JSON: the route refuses it; the bytes still tell requests apart
        return raw.decode("utf-8", errors="replace")
