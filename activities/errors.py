"""Turn our errors into Temporal failures with the right retry behaviour."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from connectors.errors import ConnectorError
from core.errors import FirelineError, describe_validation_error


@contextmanager
def as_activity_failure(what: str) -> Iterator[None]:
    """Raise a failure whose message says what was being done and whether a retry helps."""
    try:
        yield
    except ConnectorError as err:
        delay = timedelta(seconds=err.retry_after) if err.retry_after is not None else None
        raise ApplicationError(
            f"{what}: {err}",
            type=type(err).__name__,
            non_retryable=not err.retryable,
            next_retry_delay=delay,
        ) from None
    except FirelineError as err:
        raise ApplicationError(
            f"{what}: {err}", type=type(err).__name__, non_retryable=True
        ) from None
    except ValidationError as err:  # a badly written connection: retrying cannot help
        raise ApplicationError(
            f"{what}: invalid settings in the providers file: {describe_validation_error(err)}",
            type="ConnectionSettingsError",
            non_retryable=True,
        ) from None
