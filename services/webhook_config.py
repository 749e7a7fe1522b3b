"""Per-org webhook endpoints: their URLs, how they authenticate, and retried deliveries.

Each org gets its own URL per vendor, /v1/webhooks/{source}/{hook_id}; the unguessable
`hook_id` tells which org a delivery belongs to before anything else is read. Secrets
are stored encrypted (SecretBox) and never leave this service.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from secrets import token_urlsafe
from typing import Any

from core.errors import InvalidInputError, NotFoundError, UnauthorizedError
from core.secretbox import SecretBox
from ingest.auth import (
    SIGNING_SOURCES,
    AuthKind,
    WebhookAuth,
    WebhookAuthError,
    signing_scheme,
    verify,
)
from store import webhooks
from store.db import Database
from store.webhooks import StoredDelivery, WebhookConfigRecord

MAX_SOURCE_CHARS = 32
MAX_HOOK_ID_CHARS = 64
MIN_SECRET_CHARS = 8
MAX_SECRET_CHARS = 1024
MAX_USERNAME_CHARS = 255
MAX_DELIVERY_ID_CHARS = 255
# An HTTP header name (RFC 9110 token), within the column's 100 characters.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}")


def new_hook_id() -> str:
    return token_urlsafe(24)


@dataclass(frozen=True)
class WebhookConfigView:
    """What an org may see of its endpoint: never the secret."""

    source: str
    url: str
    auth: AuthKind
    username: str | None
    header_name: str | None
    has_secret: bool
    signing: str | None
    updated_at: datetime


class WebhookConfigService:
    def __init__(self, db: Database, secrets: SecretBox, public_url: str) -> None:
        self._db = db
        self._secrets = secrets
        self._public_url = public_url.rstrip("/")

    async def get(self, *, org_id: str, source: str) -> WebhookConfigView:
        """The org's endpoint for `source`, created (no authentication) on first use."""
        _check_source(source)
        async with self._db.session() as session:
            record = await webhooks.create_config_if_missing(
                session,
                org_id=org_id,
                source=source,
                hook_id=new_hook_id(),
                auth_kind=AuthKind.NONE.value,
            )
        return self._view(record)

    async def configure(
        self,
        *,
        org_id: str,
        source: str,
        kind: AuthKind | str,
        secret: str | None = None,
        username: str | None = None,
        header_name: str | None = None,
        rotate_url: bool = False,
    ) -> WebhookConfigView:
        """Replace how the endpoint authenticates; `rotate_url` also issues a new URL."""
        _check_source(source)
        auth = _validated_auth(source, kind, secret, username, header_name)
        ciphertext = self._secrets.encrypt(auth.secret) if auth.secret is not None else None
        async with self._db.session() as session:
            current = await webhooks.get_config(session, org_id, source)
            record = await webhooks.upsert_config(
                session,
                org_id=org_id,
                source=source,
                hook_id=new_hook_id() if current is None or rotate_url else current.hook_id,
                auth_kind=auth.kind.value,
                secret_ciphertext=ciphertext,
                username=auth.username,
                header_name=auth.header_name,
            )
        return self._view(record)

    async def authenticate(
        self,
        *,
        source: str,
        hook_id: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        body: bytes,
    ) -> str:
        """The org that owns /v1/webhooks/{source}/{hook_id}, once the delivery is verified."""
        record = await self._find_endpoint(source, hook_id)
        secret = (
            self._secrets.decrypt(record.secret_ciphertext)
            if record.secret_ciphertext is not None
            else None
        )
        auth = WebhookAuth(
            kind=AuthKind(record.auth_kind),
            secret=secret,
            username=record.username,
            header_name=record.header_name,
        )
        try:
            verify(source, auth, headers, query, body)
        except WebhookAuthError as err:
            raise UnauthorizedError(str(err)) from None
        return record.org_id

    async def find_delivery(
        self, *, org_id: str, source: str, delivery_id: str
    ) -> StoredDelivery | None:
        """The answer already given to this vendor delivery id, if any."""
        async with self._db.read_session() as session:
            return await webhooks.find_delivery(
                session, org_id, source, storable_delivery_id(delivery_id)
            )

    async def record_delivery(
        self,
        *,
        org_id: str,
        source: str,
        delivery_id: str,
        status_code: int,
        response: dict[str, Any],
    ) -> bool:
        """Remember the answer to a delivery; False when the id was already recorded."""
        async with self._db.session() as session:
            return await webhooks.record_delivery(
                session, org_id, source, storable_delivery_id(delivery_id), status_code, response
            )

    async def _find_endpoint(self, source: str, hook_id: str) -> WebhookConfigRecord:
        record = None
        if len(source) <= MAX_SOURCE_CHARS and len(hook_id) <= MAX_HOOK_ID_CHARS:
            async with self._db.read_session() as session:
                record = await webhooks.get_config_by_hook(session, source, hook_id)
        if record is None:
            # One message for an unknown hook and another source's hook: no probing.
            raise NotFoundError(
                f"no webhook endpoint at this URL; get yours from GET /v1/webhooks/{source}/config"
            )
        return record

    def _view(self, record: WebhookConfigRecord) -> WebhookConfigView:
        kind = AuthKind(record.auth_kind)
        return WebhookConfigView(
            source=record.source,
            url=f"{self._public_url}/v1/webhooks/{record.source}/{record.hook_id}",
            auth=kind,
            username=record.username,
            header_name=record.header_name,
            has_secret=record.secret_ciphertext is not None,
            signing=_describe_signing(record.source, kind, record.header_name),
            updated_at=record.updated_at,
        )


def storable_delivery_id(delivery_id: str) -> str:
    """Vendor ids longer than the column are kept as their hash (still unique per delivery)."""
    if len(delivery_id) <= MAX_DELIVERY_ID_CHARS:
        return delivery_id
    return "sha256:" + hashlib.sha256(delivery_id.encode("utf-8")).hexdigest()


def _describe_signing(source: str, kind: AuthKind, header_name: str | None) -> str | None:
    scheme = signing_scheme(source) if kind is AuthKind.HMAC else None
    if scheme is None or header_name is None:
        return scheme
    return f"{scheme} of '<{header_name} value>:' + body"


def _check_source(source: str) -> None:
    if not source or len(source) > MAX_SOURCE_CHARS:
        raise InvalidInputError(f"source: must be 1 to {MAX_SOURCE_CHARS} characters")


def _validated_auth(
    source: str,
    kind: AuthKind | str,
    secret: str | None,
    username: str | None,
    header_name: str | None,
) -> WebhookAuth:
    """The requested settings, or InvalidInputError listing every problem as `field: ...`."""
    try:
        auth_kind = AuthKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in AuthKind)
        raise InvalidInputError(f"auth: must be one of {choices}") from None
    problems = [
        *_kind_problems(source, auth_kind),
        *_secret_problems(auth_kind, secret),
        *_username_problems(auth_kind, username),
        *_header_name_problems(source, auth_kind, header_name),
    ]
    if problems:
        raise InvalidInputError("; ".join(problems))
    return WebhookAuth(kind=auth_kind, secret=secret, username=username, header_name=header_name)


def _kind_problems(source: str, kind: AuthKind) -> list[str]:
    if kind is AuthKind.HMAC and signing_scheme(source) is None:
        return [
            f"auth: hmac is only for sources that sign their deliveries "
            f"({', '.join(SIGNING_SOURCES)}); use bearer, basic, header or query for {source}"
        ]
    return []


def _secret_problems(kind: AuthKind, secret: str | None) -> list[str]:
    # Never quote the secret in these messages.
    if kind is AuthKind.NONE:
        return [] if secret is None else ["secret: not used when auth is none; omit it"]
    if secret is None or secret == "":
        return [f"secret: required when auth is {kind.value}"]
    if not MIN_SECRET_CHARS <= len(secret) <= MAX_SECRET_CHARS:
        return [f"secret: must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters"]
    if secret != secret.strip():
        return ["secret: must not start or end with whitespace"]
    if not secret.isprintable():
        return ["secret: must not contain control characters or line breaks"]
    return []


def _username_problems(kind: AuthKind, username: str | None) -> list[str]:
    if kind is not AuthKind.BASIC:
        return [] if username is None else ["username: only used when auth is basic; omit it"]
    if not username:
        return ["username: required when auth is basic"]
    if len(username) > MAX_USERNAME_CHARS:
        return [f"username: at most {MAX_USERNAME_CHARS} characters"]
    if ":" in username or not username.isprintable():
        return ["username: must not contain ':' or control characters (HTTP Basic)"]
    return []


def _header_name_problems(source: str, kind: AuthKind, header_name: str | None) -> list[str]:
    takes_header = kind is AuthKind.HEADER or (
        kind is AuthKind.HMAC and source.lower() == "grafana"
    )
    if not takes_header:
        return (
            []
            if header_name is None
            else [
                "header_name: only used when auth is header (or hmac for grafana, "
                "as its timestamp header); omit it"
            ]
        )
    if header_name is None:
        return ["header_name: required when auth is header"] if kind is AuthKind.HEADER else []
    if not HEADER_NAME.fullmatch(header_name):
        return [
            "header_name: must be an HTTP header name (1 to 100 letters, digits or !#$%&'*+-.^_`|~)"
        ]
    return []
