"""What can go wrong talking to ServiceNow, as typed `ConnectorError`s a user can act on.

Each kind says whether a retry may help. Messages name the instance and the account,
never a credential, and never quote the request (it may carry one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from oauthlib.oauth2 import OAuth2Error
from pysnow.exceptions import MissingResult, PysnowException

from connectors.errors import ConnectorError, excerpt, is_retryable_status
from connectors.servicenow_auth import OAuthRefused
from connectors.transport_errors import TRANSPORT_ERRORS, transport_error

# "Data Policy Exception: The following fields are mandatory: Resolution code, Resolution notes"
_MANDATORY = re.compile(r"following fields are mandatory:\s*(?P<fields>[^\n]+)", re.IGNORECASE)
DEFAULT_RETRY_AFTER_SECONDS = 30.0


class ServiceNowAuthError(ConnectorError):
    """The instance refused the account or the OAuth client: fix the credentials."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message, retryable=False, status_code=status_code)


class ServiceNowNotFoundError(ConnectorError):
    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False, status_code=404)


class ServiceNowDataPolicyError(ConnectorError):
    """The instance's data policy demands fields the request did not give."""

    def __init__(self, message: str, fields: list[str]) -> None:
        super().__init__(message, retryable=False, status_code=403)
        self.fields = fields


class ServiceNowThrottledError(ConnectorError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retryable=True, status_code=429, retry_after=retry_after)


class ServiceNowAsleepError(ConnectorError):
    """An HTML page where JSON was due: a hibernating developer instance, or a login page."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


@contextmanager
def servicenow_errors(site: str, account: str, action: str) -> Iterator[None]:
    """Translate failures while doing `action` (e.g. "create an incident")."""
    try:
        yield
    except requests.HTTPError as err:
        raise from_http_error(err.response, site, account, action) from None
    except (requests.exceptions.SSLError, *TRANSPORT_ERRORS) as err:
        raise transport_error(
            err, system="servicenow", place="instance", site=site, action=action
        ) from err
    except requests.exceptions.JSONDecodeError:
        raise ServiceNowAsleepError(
            f"could not {action}: {site} answered with a web page instead of JSON; a "
            "developer instance that is hibernating does this (wake it from the developer "
            "portal), as does a url that is not the instance's base URL; retrying"
        ) from None
    except (OAuthRefused, OAuth2Error) as err:
        code = str(err) if isinstance(err, OAuthRefused) else err.error
        raise ServiceNowAuthError(
            f"could not {action}: {site} refused OAuth sign-in of {account} ({code}); check "
            "client_id, client_secret, username and password of the servicenow connection"
        ) from None
    except MissingResult:
        raise ConnectorError(
            f"could not {action}: {site} answered without a result; check that the url is "
            "the instance's base URL",
            retryable=False,
        ) from None
    except PysnowException as err:
        raise ConnectorError(
            f"could not {action} on {site}: {type(err).__name__}: {excerpt(str(err), 200)}",
            retryable=False,
        ) from None


def from_http_error(
    response: requests.Response | None, site: str, account: str, action: str
) -> ConnectorError:
    status = response.status_code if response is not None else None
    detail = _detail(response)
    if status == 401:
        return ServiceNowAuthError(
            f"could not {action}: authentication failed for {site} as {account}: check the "
            "servicenow connection's username and password",
            status,
        )
    if status == 403:
        return _forbidden(detail, site, account, action)
    if status == 404:
        return ServiceNowNotFoundError(f"could not {action} on {site}: not found ({detail})")
    if status == 429:
        wait = _retry_after(response)
        return ServiceNowThrottledError(
            f"could not {action}: {site} is rate limiting {account} (HTTP 429); retrying in "
            f"{wait:g}s",
            wait,
        )
    retryable = status is not None and is_retryable_status(status)
    return ConnectorError(
        f"could not {action} on {site}: servicenow answered HTTP {status} ({detail})",
        retryable=retryable,
        status_code=status,
    )


def _forbidden(detail: str, site: str, account: str, action: str) -> ConnectorError:
    match = _MANDATORY.search(detail)
    if match:
        fields = [name.strip() for name in match["fields"].split(",") if name.strip()]
        return ServiceNowDataPolicyError(
            f"could not {action} on {site}: the instance's data policy requires "
            f"{', '.join(fields)}; give them (e.g. in the step's `fields`) and run it again",
            fields,
        )
    return ServiceNowAuthError(
        f"could not {action}: {site} does not let {account} do this ({detail}); grant the "
        "account the itil role or the table's ACLs",
        403,
    )


def _retry_after(response: requests.Response | None) -> float:
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(float(value), 0.0) if value else DEFAULT_RETRY_AFTER_SECONDS
    except ValueError:  # an HTTP date: rare from ServiceNow, and waiting the default is safe
        return DEFAULT_RETRY_AFTER_SECONDS


def _detail(response: requests.Response | None) -> str:
    """ServiceNow's `{"error": {"message", "detail"}}`, as one line."""
    body: Any = None
    if response is not None:
        try:
            body = response.json()
        except ValueError:
            body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "no details"
    parts = [str(error.get(key) or "").strip() for key in ("message", "detail")]
    return excerpt(": ".join(part for part in parts if part)) or "no details"
