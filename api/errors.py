"""Map our error tree onto HTTP answers: `{"detail": message}`.

A request that fails validation gets FastAPI's 422 list (`loc`, `msg`, `type` per problem)
without the `input` FastAPI would echo: a rejected body may hold a credential.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from core.errors import (
    BadRequestError,
    ConflictError,
    FieldErrors,
    FirelineError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
)

STATUS_BY_ERROR: dict[type[FirelineError], int] = {
    NotFoundError: status.HTTP_404_NOT_FOUND,
    ConflictError: status.HTTP_409_CONFLICT,
    ForbiddenError: status.HTTP_403_FORBIDDEN,
    InvalidInputError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    BadRequestError: status.HTTP_400_BAD_REQUEST,
    UnauthorizedError: status.HTTP_401_UNAUTHORIZED,
    PayloadTooLargeError: status.HTTP_413_CONTENT_TOO_LARGE,
    UnsupportedMediaTypeError: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    RateLimitedError: status.HTTP_429_TOO_MANY_REQUESTS,
    ServiceUnavailableError: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def install_error_handlers(
    app: FastAPI, extra: Mapping[type[FirelineError], int] | None = None
) -> None:
    """Register a handler per error class; `extra` adds or overrides mappings."""
    for error_type, status_code in {**STATUS_BY_ERROR, **(extra or {})}.items():
        app.add_exception_handler(error_type, _handler(status_code))
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(FieldErrors, _field_errors_handler)


def _handler(status_code: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(_request: Request, error: Exception) -> JSONResponse:
        headers = {}
        if isinstance(error, RateLimitedError):
            headers["Retry-After"] = str(error.retry_after_seconds)
        return JSONResponse({"detail": str(error)}, status_code=status_code, headers=headers)

    return handle


async def validation_handler(_request: Request, error: Exception) -> JSONResponse:
    """422 with every problem; 400 when the body is not JSON at all, as ingestion answers."""
    assert isinstance(error, RequestValidationError)
    unreadable = [e for e in error.errors() if e["type"] == "json_invalid"]
    if unreadable:
        message = f"the request body is not valid JSON: {unreadable[0]['ctx']['error']}"
        position = unreadable[0]["loc"][-1]
        return JSONResponse(
            {"detail": f"{message} (at character {position}); send a JSON object"},
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    problems = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in error.errors()]
    return JSONResponse(
        {"detail": jsonable_encoder(problems)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def _field_errors_handler(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, FieldErrors)
    problems = [
        {"loc": list(loc), "msg": msg, "type": "value_error"} for loc, msg in error.problems
    ]
    return JSONResponse({"detail": problems}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
