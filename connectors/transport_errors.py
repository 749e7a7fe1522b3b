"""What a failure below HTTP means, for the connectors built on `requests` (Jira,
ServiceNow): TLS refused is final, a connection or timeout problem may pass."""

from __future__ import annotations

import requests

from connectors.errors import ConnectorError

TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def transport_error(
    err: requests.exceptions.RequestException, *, system: str, place: str, site: str, action: str
) -> ConnectorError:
    """`system` names the connection type ("jira"), `place` what it reaches ("site")."""
    if isinstance(err, requests.exceptions.SSLError):
        return ConnectorError(
            f"could not {action}: TLS verification of {site} failed; install the {place}'s CA "
            f"certificate, or set verify_tls: false on the {system} connection (test "
            f"{place}s only)",
            retryable=False,
        )
    return ConnectorError(
        f"could not {action}: {_transport_reason(err)} talking to {site}; "
        f"check the {system} url and that the {place} is reachable",
        retryable=True,
    )


def _transport_reason(err: requests.exceptions.RequestException) -> str:
    text = str(err)
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return "connecting timed out"
    if isinstance(err, requests.exceptions.Timeout):
        return "timed out waiting for an answer"
    if "Connection refused" in text:
        return "connection refused"
    if "NameResolutionError" in text or "Name or service not known" in text:
        return "host name not found"
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "connection closed without an answer"
    return type(err).__name__
