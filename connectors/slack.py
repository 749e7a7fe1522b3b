"""Post messages to a Slack incoming webhook (async, httpx).

The webhook URL is itself the credential: messages name only its host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.errors import ConnectorError, excerpt, is_retryable_status
from connectors.http import describe_transport_error

# What Slack's webhook error answers mean for the person fixing the connection.
_HINTS = {
    400: "Slack rejected the message: check message and blocks",
    403: "Slack refused the post: check the webhook is allowed to post to its channel",
    404: "the webhook does not exist or was revoked: create a new incoming webhook "
    "and update the slack connection",
    410: "the webhook's channel was archived or deleted: create a new incoming webhook",
}


class SlackConnection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    webhook_url: SecretStr
    timeout: float = Field(default=10.0, gt=0)

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, url: SecretStr) -> SecretStr:
        if not url.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("must be the https:// URL of a Slack incoming webhook")
        return url

    @property
    def host(self) -> str:
        return urlsplit(self.webhook_url.get_secret_value()).hostname or "?"


async def post_message(
    connection: SlackConnection,
    *,
    message: str,
    blocks: list[dict[str, Any]] | None = None,
    channel: str | None = None,
    username: str | None = None,
    icon_emoji: str | None = None,
) -> dict[str, Any]:
    """Post one message; return `{"status_code", "body"}` (Slack answers "ok")."""
    where = f"the slack webhook on {connection.host}"
    if not message and not blocks:
        raise ConnectorError(f"cannot post to {where}: message is empty", retryable=False)
    payload = _payload(message, blocks, channel, username, icon_emoji)
    secret_url = connection.webhook_url.get_secret_value()
    try:
        async with httpx.AsyncClient(timeout=connection.timeout) as client:
            response = await client.post(secret_url, json=payload)
    except httpx.HTTPError as err:
        reason, retryable = describe_transport_error(err)
        reason = reason.replace(secret_url, connection.host)
        # Not chained: the cause's request holds the secret webhook URL.
        raise ConnectorError(f"could not post to {where}: {reason}", retryable=retryable) from None
    if not response.is_success:
        raise _rejected(where, response)
    return {"status_code": response.status_code, "body": response.text}


def _payload(
    message: str,
    blocks: list[dict[str, Any]] | None,
    channel: str | None,
    username: str | None,
    icon_emoji: str | None,
) -> dict[str, Any]:
    extras = {
        "blocks": blocks,
        "channel": channel,
        "username": username,
        "icon_emoji": icon_emoji,
    }
    return {"text": message, **{name: value for name, value in extras.items() if value}}


def _rejected(where: str, response: httpx.Response) -> ConnectorError:
    status = response.status_code
    retryable = is_retryable_status(status)
    hint = "Slack is unavailable or rate limiting" if retryable else _HINTS.get(status, "")
    return ConnectorError(
        f"could not post to {where}: HTTP {status} {excerpt(response.text, 100)}"
        + (f"; {hint}" if hint else ""),
        retryable=retryable,
        status_code=status,
    )
