"""How Fireline signs in to a ServiceNow instance: basic auth, or the OAuth password grant.

The connection is read from the providers file, Keep's spelling included:

```yaml
servicenow:
  type: servicenow
  authentication:
    service_now_base_url: https://acme.service-now.com   # or url
    username: fireline.integration
    password: ${SNOW_PASSWORD}
    client_id: ${SNOW_CLIENT_ID}          # both: OAuth password grant
    client_secret: ${SNOW_CLIENT_SECRET}
```

With `client_id`/`client_secret` the password is exchanged once at `/oauth_token.do` for
an access token and a refresh token; the tokens are kept in this process's memory only
(never written, never in a result) and refreshed when they expire. pysnow's own
`OAuthClient` is not used: its resources refuse a timeout (pysnow #199); an
`OAuth2Session` handed to the plain client does the same grant and keeps the timeout.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Self

import requests
from oauthlib.oauth2 import LegacyApplicationClient, OAuth2Error
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from requests_oauthlib import OAuth2Session

from connectors.errors import redact_url

TOKEN_PATH = "/oauth_token.do"  # noqa: S105 - a path, not a secret

# Their debug records quote token requests and answers, password included.
for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.INFO)


class ServiceNowConnection(BaseModel):
    """One instance and one account; `client_id` + `client_secret` turn on OAuth."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    url: str = Field(validation_alias=AliasChoices("url", "service_now_base_url", "instance_url"))
    username: str = Field(min_length=1)
    password: SecretStr
    client_id: str | None = None
    client_secret: SecretStr | None = None
    verify_tls: bool = True
    timeout: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _base_url(cls, url: str) -> str:
        url = url.strip().rstrip("/")
        if "://" not in url:
            url = f"https://{url}"
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL, e.g. https://acme.service-now.com")
        return url

    @model_validator(mode="after")
    def _both_or_neither_client_fields(self) -> Self:
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("OAuth needs both client_id and client_secret (or neither: basic)")
        return self

    @property
    def uses_oauth(self) -> bool:
        return self.client_id is not None

    @property
    def site(self) -> str:
        """The instance, for messages (no user info, query or fragment)."""
        return redact_url(self.url)

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    @property
    def use_ssl(self) -> bool:
        return self.url.startswith("https://")


class OAuthRefused(Exception):
    """The token endpoint refused the client or the account (message: OAuth's error code)."""


_tokens: dict[tuple[str, str, str], dict[str, Any]] = {}
_tokens_lock = threading.Lock()


def signed_in_session(connection: ServiceNowConnection) -> requests.Session:
    """A session that signs every request in; for OAuth, holding a valid token."""
    if not connection.uses_oauth:
        session = requests.Session()
        session.auth = (connection.username, connection.password.get_secret_value())
    else:
        session = _oauth_session(connection, _token(connection))
    session.verify = connection.verify_tls
    return session


def forget_token(connection: ServiceNowConnection) -> None:
    """Drop the cached token (the instance refused it): the next session fetches another."""
    with _tokens_lock:
        _tokens.pop(_token_key(connection), None)


def _token(connection: ServiceNowConnection) -> dict[str, Any]:
    key = _token_key(connection)
    with _tokens_lock:
        token = _tokens.get(key)
    if token is None:
        token = _password_grant(connection)
        _store_token(connection, token)
    return token


def _password_grant(connection: ServiceNowConnection) -> dict[str, Any]:
    assert connection.client_id is not None and connection.client_secret is not None
    session = OAuth2Session(client=LegacyApplicationClient(client_id=connection.client_id))
    session.verify = connection.verify_tls
    try:
        return dict(
            session.fetch_token(
                token_url=connection.url + TOKEN_PATH,
                username=connection.username,
                password=connection.password.get_secret_value(),
                client_id=connection.client_id,
                client_secret=connection.client_secret.get_secret_value(),
                timeout=connection.timeout,
            )
        )
    except OAuth2Error as err:
        raise OAuthRefused(err.error or type(err).__name__) from None


def _oauth_session(connection: ServiceNowConnection, token: dict[str, Any]) -> OAuth2Session:
    assert connection.client_id is not None and connection.client_secret is not None
    return OAuth2Session(
        client_id=connection.client_id,
        token=token,
        auto_refresh_url=connection.url + TOKEN_PATH,
        auto_refresh_kwargs={
            "client_id": connection.client_id,
            "client_secret": connection.client_secret.get_secret_value(),
        },
        token_updater=lambda refreshed: _store_token(connection, refreshed),
    )


def _store_token(connection: ServiceNowConnection, token: dict[str, Any]) -> None:
    with _tokens_lock:
        _tokens[_token_key(connection)] = dict(token)


def _token_key(connection: ServiceNowConnection) -> tuple[str, str, str]:
    return (connection.url, connection.client_id or "", connection.username)
