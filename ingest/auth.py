"""Checking a webhook delivery's signature or credentials against its endpoint's settings.

Pure: the caller passes the raw body, the headers (lower-case names) and the query
parameters. Every comparison of a secret runs in constant time, and no error message
quotes the secret or what the sender presented.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class AuthKind(StrEnum):
    NONE = "none"
    HMAC = "hmac"  # the vendor signs the body (PagerDuty, Grafana)
    BEARER = "bearer"  # Authorization: <any scheme> <secret>
    BASIC = "basic"  # Authorization: Basic base64(username:secret)
    HEADER = "header"  # <header_name>: <secret>
    QUERY = "query"  # ?token=<secret> or ?auth_token=<secret>


@dataclass(frozen=True)
class WebhookAuth:
    """How one endpoint authenticates; `header_name` is the custom header for `header`,
    and for Grafana `hmac` the optional timestamp header that is part of the signed input."""

    kind: AuthKind
    secret: str | None = None
    username: str | None = None
    header_name: str | None = None

    def __repr__(self) -> str:  # never print the secret
        return (
            f"WebhookAuth(kind={self.kind.value!r}, secret={'***' if self.secret else None}, "
            f"username={self.username!r}, header_name={self.header_name!r})"
        )


class WebhookAuthError(Exception):
    """The delivery is not authenticated; the message says what to check."""


PAGERDUTY_SIGNATURE_HEADER = "X-PagerDuty-Signature"
GRAFANA_SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
QUERY_TOKEN_PARAMETERS = ("token", "auth_token")

_SIGNING_SCHEMES = {
    "pagerduty": f"{PAGERDUTY_SIGNATURE_HEADER} v1=HMAC-SHA256",
    "grafana": f"{GRAFANA_SIGNATURE_HEADER} hex HMAC-SHA256",
}
SIGNING_SOURCES = tuple(_SIGNING_SCHEMES)


def signing_scheme(source: str) -> str | None:
    """How `source` signs its deliveries (header and format), None when it does not sign."""
    return _SIGNING_SCHEMES.get(source.lower())


def verify(
    source: str,
    auth: WebhookAuth,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
) -> None:
    """Return when the delivery satisfies `auth`; raise WebhookAuthError otherwise."""
    if auth.kind is AuthKind.NONE:
        return
    if not auth.secret:
        raise WebhookAuthError(
            f"the endpoint's {auth.kind.value} authentication has no secret; configure it again"
        )
    checks: dict[AuthKind, Callable[[], None]] = {
        AuthKind.HMAC: lambda: _verify_signature(source, auth, headers, body),
        AuthKind.BEARER: lambda: _verify_bearer(auth, headers),
        AuthKind.BASIC: lambda: _verify_basic(auth, headers),
        AuthKind.HEADER: lambda: _verify_header(auth, headers),
        AuthKind.QUERY: lambda: _verify_query(auth, query),
    }
    checks[auth.kind]()


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _verify_signature(
    source: str, auth: WebhookAuth, headers: Mapping[str, str], body: bytes
) -> None:
    assert auth.secret is not None
    match source.lower():
        case "pagerduty":
            _verify_pagerduty(auth.secret, headers, body)
        case "grafana":
            _verify_grafana(auth.secret, auth.header_name, headers, body)
        case _:
            raise WebhookAuthError(
                f"{source} does not sign its webhooks (only {', '.join(SIGNING_SOURCES)} do); "
                "choose another authentication"
            )


def _verify_pagerduty(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    value = headers.get(PAGERDUTY_SIGNATURE_HEADER.lower())
    if value is None:
        raise WebhookAuthError(f"missing {PAGERDUTY_SIGNATURE_HEADER} header")
    # Several values during a secret rotation: "v1=<hex>,v1=<hex>".
    signatures = [
        part.strip()[len("v1=") :] for part in value.split(",") if part.strip().startswith("v1=")
    ]
    if not signatures:
        raise WebhookAuthError(
            f"malformed {PAGERDUTY_SIGNATURE_HEADER} header: expected v1=<hex HMAC-SHA256>"
        )
    expected = hmac_sha256_hex(secret, body)
    if not any(_same(expected, signature.lower()) for signature in signatures):
        raise WebhookAuthError(
            f"no v1 signature in {PAGERDUTY_SIGNATURE_HEADER} matches the body "
            "(check the subscription's secret)"
        )


def _verify_grafana(
    secret: str, timestamp_header: str | None, headers: Mapping[str, str], body: bytes
) -> None:
    signature = headers.get(GRAFANA_SIGNATURE_HEADER.lower())
    if signature is None:
        raise WebhookAuthError(f"missing {GRAFANA_SIGNATURE_HEADER} header")
    signed = body
    if timestamp_header:
        timestamp = headers.get(timestamp_header.lower())
        if timestamp is None:
            raise WebhookAuthError(
                f"missing {timestamp_header} header (the timestamp header configured for the "
                "HMAC signature)"
            )
        signed = f"{timestamp.strip()}:".encode() + body
    if not _same(hmac_sha256_hex(secret, signed), signature.strip().lower()):
        timestamp_hint = (
            f"and that its timestamp header is {timestamp_header}"
            if timestamp_header
            else "and that it sets no timestamp header (none is configured here)"
        )
        raise WebhookAuthError(
            f"{GRAFANA_SIGNATURE_HEADER} does not match the body (check the contact point's "
            f"HMAC secret {timestamp_hint})"
        )


def _authorization(headers: Mapping[str, str], expected: str) -> tuple[str, str]:
    """(scheme, credentials) of the Authorization header."""
    value = headers.get("authorization")
    if value is None:
        raise WebhookAuthError(f"missing Authorization header (expected {expected})")
    scheme, _, credentials = value.strip().partition(" ")
    credentials = credentials.strip()
    if not scheme or not credentials:
        raise WebhookAuthError(f"malformed Authorization header (expected {expected})")
    return scheme, credentials


def _verify_bearer(auth: WebhookAuth, headers: Mapping[str, str]) -> None:
    assert auth.secret is not None
    _scheme, credentials = _authorization(headers, "'<scheme> <token>', e.g. Bearer")
    if not _same(auth.secret, credentials):
        raise WebhookAuthError("wrong credentials in the Authorization header")


def _verify_basic(auth: WebhookAuth, headers: Mapping[str, str]) -> None:
    assert auth.secret is not None
    scheme, credentials = _authorization(headers, "Basic")
    if scheme.lower() != "basic":
        raise WebhookAuthError("the Authorization header is not Basic (expected Basic)")
    try:
        decoded = base64.b64decode(credentials, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookAuthError(
            "malformed Basic credentials (expected base64 of username:password)"
        ) from None
    username, colon, password = decoded.partition(b":")
    if not colon:
        raise WebhookAuthError("malformed Basic credentials (expected base64 of username:password)")
    # `&`, not `and`: both comparisons always run.
    username_ok = hmac.compare_digest(_bytes(auth.username or ""), username)
    password_ok = hmac.compare_digest(_bytes(auth.secret), password)
    if not (username_ok & password_ok):
        raise WebhookAuthError("wrong credentials")


def _verify_header(auth: WebhookAuth, headers: Mapping[str, str]) -> None:
    assert auth.secret is not None
    if not auth.header_name:
        raise WebhookAuthError("the endpoint's header authentication names no header")
    value = headers.get(auth.header_name.lower())
    if value is None:
        raise WebhookAuthError(f"missing {auth.header_name} header")
    if not _same(auth.secret, value.strip()):
        raise WebhookAuthError(f"wrong credentials in the {auth.header_name} header")


def _verify_query(auth: WebhookAuth, query: Mapping[str, str]) -> None:
    assert auth.secret is not None
    tokens = [query[name] for name in QUERY_TOKEN_PARAMETERS if name in query]
    if not tokens:
        raise WebhookAuthError(
            "missing token query parameter (add ?token=<secret> or ?auth_token=<secret> to the URL)"
        )
    # Check every token given so the time taken does not depend on which one matched.
    matches = [_same(auth.secret, token) for token in tokens]
    if not any(matches):
        raise WebhookAuthError("wrong credentials in the URL's token")


def _same(expected: str, received: str) -> bool:
    return hmac.compare_digest(_bytes(expected), _bytes(received))


def _bytes(text: str) -> bytes:
    # compare_digest refuses non-ASCII str; bytes work for any header value.
    return text.encode("utf-8", errors="replace")
