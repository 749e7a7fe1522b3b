"""The error tree. API handlers map these onto HTTP status codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class FirelineError(Exception):
    """Base of every error we raise on purpose."""


class NotFoundError(FirelineError):
    pass


class ConflictError(FirelineError):
    pass


class ForbiddenError(FirelineError):
    pass


class InvalidInputError(FirelineError):
    pass


class FieldErrors(InvalidInputError):
    """Invalid values, each with the path of its field: the API answers with the same
    422 list (`loc`, `msg`, `type`) as for a body that fails its model."""

    def __init__(self, problems: Sequence[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in problems))
        self.problems = list(problems)


class BadRequestError(FirelineError):
    """The request cannot be read at all (not JSON, not UTF-8, nested too deep...)."""


class UnauthorizedError(FirelineError):
    """Missing or wrong credentials (a webhook signature or token)."""


class PayloadTooLargeError(FirelineError):
    pass


class UnsupportedMediaTypeError(FirelineError):
    pass


class RateLimitedError(FirelineError):
    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailableError(FirelineError):
    """A part Fireline needs (Temporal, a worker) did not answer; the API answers 503."""


class ProviderNotConfiguredError(FirelineError):
    pass


class StepFailedError(FirelineError):
    """A workflow step failed; the message names the step, template and what to do."""


class HasErrors(Protocol):
    """A pydantic ValidationError or FastAPI's RequestValidationError."""

    def errors(self) -> Sequence[Mapping[str, Any]]: ...


def describe_validation_error(err: HasErrors, *, prefix: tuple[str, ...] = ()) -> str:
    """Each problem as `field.path: message`, never the input (it may hold a secret)."""
    return "; ".join(
        f"{'.'.join(map(str, (*prefix, *e['loc'])))}: {e['msg']}" for e in err.errors()
    )
