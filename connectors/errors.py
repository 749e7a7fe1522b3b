"""The one error every connector raises, and helpers to build its message safely.

A `ConnectorError` says what failed, where (host, project, issue) and what to do about
it, and whether trying again may help (`retryable`). Activities turn it into a Temporal
failure, so its message ends up in workflow history: it never holds credentials.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

EXCERPT_CHARS = 300


class ConnectorError(Exception):
    """A call to an external system failed; `retryable` says whether a retry may help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        retry_after: float | None = None,  # seconds the remote system asked us to wait
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments break the default pickling of exceptions.
        return (_rebuild, (self.message, self.retryable, self.status_code, self.retry_after))


def _rebuild(
    message: str, retryable: bool, status_code: int | None, retry_after: float | None = None
) -> ConnectorError:
    return ConnectorError(
        message, retryable=retryable, status_code=status_code, retry_after=retry_after
    )


def is_retryable_status(status_code: int) -> bool:
    """Rate limits, request timeouts and server errors may pass; other statuses will not."""
    return status_code in (408, 429) or status_code >= 500


def redact_url(url: str) -> str:
    """The URL without user info, query or fragment: those may carry secrets."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid url>"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most `limit` characters, for quoting a response body in a message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
