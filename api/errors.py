"""Map our error tree onto HTTP answers: `{"detail": message}`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from core.errors import (
    ConflictError,
    FirelineError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)

STATUS_BY_ERROR: dict[type[FirelineError], int] = {
    NotFoundError: status.HTTP_404_NOT_FOUND,
    ConflictError: status.HTTP_409_CONFLICT,
    ForbiddenError: status.HTTP_403_FORBIDDEN,
    InvalidInputError: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def install_error_handlers(
    app: FastAPI, extra: Mapping[type[FirelineError], int] | None = None
) -> None:
    """Register a handler per error class; `extra` adds or overrides mappings."""
    for error_type, status_code in {**STATUS_BY_ERROR, **(extra or {})}.items():
        app.add_exception_handler(error_type, _handler(status_code))


def _handler(status_code: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status_code)

    return handle
