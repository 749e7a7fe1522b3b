"""Turn what the `jira` library raises into a `ConnectorError` a user can act on.

`str(JIRAError)` dumps request and response headers and bodies, so it is never used in a
message and never chained as the cause: the cause chain also reaches workflow history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from jira.exceptions import JIRAError

from connectors.errors import ConnectorError, excerpt, is_retryable_status
from connectors.transport_errors import TRANSPORT_ERRORS, transport_error


@contextmanager
def jira_errors(site: str, account: str, action: str) -> Iterator[None]:
    """Translate failures while doing `action` (e.g. "create an issue in project OPS")."""
    try:
        yield
    except JIRAError as err:
        raise _from_jira_error(err, site, account, action) from None
    except (requests.exceptions.SSLError, *TRANSPORT_ERRORS) as err:
        raise transport_error(err, system="jira", place="site", site=site, action=action) from err
    except requests.exceptions.JSONDecodeError as err:
        raise ConnectorError(
            f"could not {action}: {site} did not answer with JSON; check that the jira url "
            "is the site's base URL (not a login page or a proxy)",
            retryable=False,
        ) from err
    except (KeyError, IndexError, TypeError, AttributeError) as err:
        # The library indexes answers blindly; a JSON answer that is not Jira's lands here.
        raise ConnectorError(
            f"could not {action}: {site} answered in a shape Jira does not use "
            f"({type(err).__name__}: {excerpt(str(err), 120)}); check that the jira url is "
            "the site's base URL",
            retryable=False,
        ) from err


def _from_jira_error(err: JIRAError, site: str, account: str, action: str) -> ConnectorError:
    status = err.status_code
    detail = _detail(err)
    if status is None or 200 <= status < 300:
        message = f"could not {action} on {site}: unexpected answer ({detail})"
    elif status == 401:
        message = (
            f"could not {action}: authentication failed for {site} as {account}: "
            "check the jira connection credentials"
        )
    elif status == 403:
        message = (
            f"could not {action}: authentication failed for {site} as {account} ({detail}): "
            "check the jira connection credentials and the account's permissions"
        )
    elif status == 400:
        message = f"could not {action} on {site}: jira rejected the request: {detail}"
    elif status == 404:
        message = (
            f"could not {action} on {site}: not found ({detail}); "
            f"check the key and that {account} can see it"
        )
    elif status == 429:
        message = f"could not {action} on {site}: jira is rate limiting requests (HTTP 429)"
    else:
        message = f"could not {action} on {site}: jira answered HTTP {status} ({detail})"
    retryable = status is not None and is_retryable_status(status)
    return ConnectorError(message, retryable=retryable, status_code=status)


def _detail(err: JIRAError) -> str:
    """Jira's own error messages, with the field each one is about."""
    messages = _messages(_json_body(err.response))
    if messages:
        return excerpt("; ".join(messages))
    text = (err.text or "").strip()
    if not text or text.startswith("<"):  # an HTML error page says nothing useful
        return "no details"
    return excerpt(text)


def _json_body(response: requests.Response | None) -> Any:
    if response is None:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _messages(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    messages = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors")
    if isinstance(errors, dict):
        messages += [f"{field}: {problem}" for field, problem in errors.items()]
    if not messages and body.get("message"):
        messages.append(str(body["message"]))
    return messages
