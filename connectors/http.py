"""One HTTP request with httpx (async), for the `http` provider.

Keep's `http` provider sends a dict or list `body` as JSON; we do the same, so Keep
workflows keep working. Redirects are followed, as Keep (requests) does.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from connectors.errors import ConnectorError, excerpt, is_retryable_status, redact_url


async def http_request(
    *,
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    body: str | bytes | dict[str, Any] | list[Any] | None = None,
    json: Any = None,
    timeout: float = 30.0,  # noqa: ASYNC109 - httpx's per-request timeout, part of the provider API
    verify: bool = True,
    raise_for_status: bool = True,
) -> dict[str, Any]:
    """Send the request; return `{"status_code", "headers", "body"}`.

    `body` is JSON when the response says so, else text. A 5xx, 408 or 429 answer or a
    network failure raises a retryable `ConnectorError`, another 4xx a final one; with
    `raise_for_status=False` every answer is returned instead.
    """
    method = method.upper()
    target = f"{method} {redact_url(url)}"
    content, json = _content_and_json(target, body, json)
    try:
        async with httpx.AsyncClient(timeout=timeout, verify=verify, follow_redirects=True) as c:
            response = await c.request(
                method, url, headers=headers, params=params, content=content, json=json
            )
    except httpx.InvalidURL:
        # Not quoted: httpx's message repeats the URL, credentials and all.
        raise ConnectorError(f"{target}: invalid url", retryable=False) from None
    except httpx.HTTPError as err:
        reason, retryable = describe_transport_error(err)
        raise ConnectorError(f"{target} failed: {reason}", retryable=retryable) from err
    if raise_for_status and response.is_error:
        raise _status_error(target, response)
    return {
        "status_code": response.status_code,
        "headers": dict(response.headers),
        "body": _parsed_body(response),
    }


def describe_transport_error(err: httpx.HTTPError) -> tuple[str, bool]:
    """Why a request got no answer, and whether trying again may help."""
    if isinstance(err, httpx.ConnectTimeout):
        return "connecting timed out", True
    if isinstance(err, httpx.TimeoutException):
        return "timed out waiting for an answer", True
    if _caused_by_tls(err):
        return "TLS verification failed (install the CA, or turn verify off for tests)", False
    if isinstance(err, httpx.UnsupportedProtocol):
        return f"{str(err).lower().rstrip('.')}; use an http:// or https:// url", False
    if isinstance(err, httpx.RemoteProtocolError):
        return "connection closed without an answer", True
    if isinstance(err, httpx.TransportError):
        return str(err) or type(err).__name__, True
    return str(err) or type(err).__name__, False


def _content_and_json(
    target: str, body: str | bytes | dict[str, Any] | list[Any] | None, json: Any
) -> tuple[str | bytes | None, Any]:
    if body is not None and json is not None:
        raise ConnectorError(f"{target}: give either body or json, not both", retryable=False)
    if isinstance(body, dict | list):
        return None, body
    return body, json


def _caused_by_tls(err: BaseException) -> bool:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _status_error(target: str, response: httpx.Response) -> ConnectorError:
    status = response.status_code
    retryable = is_retryable_status(status)
    hint = "" if retryable else "; check the url, headers and body"
    return ConnectorError(
        f"{target} answered HTTP {status} {response.reason_phrase}: "
        f"{excerpt(response.text) or '(empty body)'}{hint}",
        retryable=retryable,
        status_code=status,
    )


def _parsed_body(response: httpx.Response) -> Any:
    if "json" in response.headers.get("content-type", "") and response.content:
        try:
            return response.json()
        except ValueError:
            pass  # says JSON but is not: the text is still worth returning
    return response.text
