"""Per-org webhook endpoints: URLs, authentication settings, secrets at rest, deliveries."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from core.errors import InvalidInputError, NotFoundError, UnauthorizedError
from core.secretbox import SecretBox, SecretDecryptionError
from ingest.auth import AuthKind
from services.webhook_config import WebhookConfigService, WebhookConfigView
from store.db import Database
from tests.conftest import FIXTURES

PUBLIC_URL = "https://fireline.example.com"
SECRET = "s3cret-token-value-42"
OTHER_SECRET = "another-token-value-99"
PAGERDUTY_BODY = (FIXTURES / "pagerduty-v3-incident.triggered.json").read_bytes()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(Fernet.generate_key().decode())


@pytest.fixture
def service(db: Database, box: SecretBox) -> WebhookConfigService:
    return WebhookConfigService(db, box, PUBLIC_URL + "/")


def hook_of(view: WebhookConfigView) -> str:
    return view.url.rsplit("/", 1)[1]


async def authenticate(
    service: WebhookConfigService,
    view: WebhookConfigView,
    *,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    body: bytes = b"{}",
    source: str | None = None,
) -> str:
    return await service.authenticate(
        source=source or view.source,
        hook_id=hook_of(view),
        headers=headers or {},
        query=query or {},
        body=body,
    )


async def raw_config_rows(db: Database) -> list[dict[str, Any]]:
    """The table's rows as the database holds them (no ORM, no decryption)."""
    async with db.read_session() as session:
        result = await session.execute(text("SELECT * FROM webhook_configs"))
        return [dict(row) for row in result.mappings()]


# --- URLs ---------------------------------------------------------------------------------


async def test_get_creates_the_endpoint_once_and_it_stays_the_same(
    service: WebhookConfigService, db: Database
) -> None:
    first = await service.get(org_id="acme", source="pagerduty")
    again = await service.get(org_id="acme", source="pagerduty")
    assert again == first
    assert first.url.startswith(f"{PUBLIC_URL}/v1/webhooks/pagerduty/")
    assert len(hook_of(first)) >= 32
    assert (first.auth, first.has_secret, first.signing) == (AuthKind.NONE, False, None)
    assert (first.username, first.header_name) == (None, None)
    assert len(await raw_config_rows(db)) == 1


async def test_each_org_and_each_source_gets_its_own_url(service: WebhookConfigService) -> None:
    acme_pd = await service.get(org_id="acme", source="pagerduty")
    globex_pd = await service.get(org_id="globex", source="pagerduty")
    acme_grafana = await service.get(org_id="acme", source="grafana")
    assert len({hook_of(acme_pd), hook_of(globex_pd), hook_of(acme_grafana)}) == 3


async def test_authenticate_resolves_the_org_that_owns_the_url(
    service: WebhookConfigService,
) -> None:
    acme = await service.get(org_id="acme", source="datadog")
    globex = await service.get(org_id="globex", source="datadog")
    assert await authenticate(service, acme) == "acme"
    assert await authenticate(service, globex) == "globex"


async def test_an_unknown_hook_and_another_sources_hook_get_the_same_not_found(
    service: WebhookConfigService,
) -> None:
    view = await service.get(org_id="acme", source="pagerduty")
    expected = "no webhook endpoint at this URL; get yours from GET /v1/webhooks/grafana/config"
    for hook_id in ["unknown-hook", hook_of(view), "x" * 500]:
        with pytest.raises(NotFoundError) as caught:
            await service.authenticate(
                source="grafana", hook_id=hook_id, headers={}, query={}, body=b"{}"
            )
        assert str(caught.value) == expected


async def test_a_source_name_over_32_characters_is_refused_and_nothing_is_created(
    service: WebhookConfigService, db: Database
) -> None:
    with pytest.raises(InvalidInputError, match="source: must be 1 to 32 characters"):
        await service.get(org_id="acme", source="s" * 33)
    with pytest.raises(InvalidInputError, match="source: "):
        await service.configure(org_id="acme", source="", kind="bearer", secret=SECRET)
    assert await raw_config_rows(db) == []


async def test_rotating_the_url_retires_the_old_one(service: WebhookConfigService) -> None:
    old = await service.configure(org_id="acme", source="zabbix", kind="bearer", secret=SECRET)
    new = await service.configure(
        org_id="acme", source="zabbix", kind="bearer", secret=SECRET, rotate_url=True
    )
    assert new.url != old.url
    assert (await service.get(org_id="acme", source="zabbix")).url == new.url
    good = {"authorization": f"Bearer {SECRET}"}
    assert await authenticate(service, new, headers=good) == "acme"
    with pytest.raises(NotFoundError):
        await authenticate(service, old, headers=good)


async def test_reconfiguring_without_rotation_keeps_the_url(service: WebhookConfigService) -> None:
    created = await service.get(org_id="acme", source="datadog")
    configured = await service.configure(
        org_id="acme", source="datadog", kind="header", secret=SECRET, header_name="X-Token"
    )
    assert configured.url == created.url
    assert configured.updated_at >= created.updated_at


# --- authentication settings --------------------------------------------------------------


async def test_a_bearer_endpoint_accepts_its_token_and_refuses_others(
    service: WebhookConfigService,
) -> None:
    view = await service.configure(org_id="acme", source="newrelic", kind="bearer", secret=SECRET)
    assert (view.auth, view.has_secret) == (AuthKind.BEARER, True)
    assert await authenticate(service, view, headers={"authorization": f"Token {SECRET}"}) == "acme"
    with pytest.raises(UnauthorizedError, match="wrong credentials") as wrong:
        await authenticate(service, view, headers={"authorization": f"Bearer {OTHER_SECRET}"})
    with pytest.raises(UnauthorizedError, match="missing Authorization header"):
        await authenticate(service, view)
    assert SECRET not in str(wrong.value) and OTHER_SECRET not in str(wrong.value)


async def test_a_pagerduty_hmac_endpoint_verifies_the_raw_body(
    service: WebhookConfigService,
) -> None:
    view = await service.configure(org_id="acme", source="pagerduty", kind="hmac", secret=SECRET)
    assert view.signing == "X-PagerDuty-Signature v1=HMAC-SHA256"
    signature = hmac.new(SECRET.encode(), PAGERDUTY_BODY, hashlib.sha256).hexdigest()
    headers = {"x-pagerduty-signature": f"v1={signature}"}
    assert await authenticate(service, view, headers=headers, body=PAGERDUTY_BODY) == "acme"
    with pytest.raises(UnauthorizedError, match="no v1 signature"):
        await authenticate(service, view, headers=headers, body=PAGERDUTY_BODY + b"\n")


async def test_a_grafana_hmac_endpoint_describes_its_timestamp_header(
    service: WebhookConfigService,
) -> None:
    view = await service.configure(
        org_id="acme", source="grafana", kind="hmac", secret=SECRET, header_name="X-Timestamp"
    )
    assert view.signing == (
        "X-Grafana-Alerting-Signature hex HMAC-SHA256 of '<X-Timestamp value>:' + body"
    )
    signed = b"1767225600:{}"
    headers = {
        "x-grafana-alerting-signature": hmac.new(SECRET.encode(), signed, "sha256").hexdigest(),
        "x-timestamp": "1767225600",
    }
    assert await authenticate(service, view, headers=headers, body=b"{}") == "acme"


async def test_basic_header_and_query_endpoints_authenticate(service: WebhookConfigService) -> None:
    basic = await service.configure(
        org_id="acme", source="gcp", kind="basic", secret=SECRET, username="gcp-user"
    )
    header = await service.configure(
        org_id="acme", source="datadog", kind="header", secret=SECRET, header_name="X-DD-Token"
    )
    query = await service.configure(org_id="acme", source="zabbix", kind="query", secret=SECRET)
    assert (basic.username, header.header_name) == ("gcp-user", "X-DD-Token")
    credentials = base64.b64encode(f"gcp-user:{SECRET}".encode()).decode()
    basic_headers = {"authorization": f"Basic {credentials}"}
    assert await authenticate(service, basic, headers=basic_headers) == "acme"
    assert await authenticate(service, header, headers={"x-dd-token": SECRET}) == "acme"
    assert await authenticate(service, query, query={"token": SECRET}) == "acme"
    with pytest.raises(UnauthorizedError):
        await authenticate(service, query, query={"token": OTHER_SECRET})


async def test_switching_back_to_none_forgets_the_secret(
    service: WebhookConfigService, db: Database
) -> None:
    await service.configure(org_id="acme", source="gcp", kind="basic", secret=SECRET, username="u")
    view = await service.configure(org_id="acme", source="gcp", kind="none")
    assert (view.auth, view.has_secret, view.username) == (AuthKind.NONE, False, None)
    assert await authenticate(service, view) == "acme"
    [row] = await raw_config_rows(db)
    assert (row["secret_ciphertext"], row["username"], row["header_name"]) == (None, None, None)


# --- secrets at rest and in views ---------------------------------------------------------


async def test_the_secret_is_stored_encrypted_and_never_shown(
    service: WebhookConfigService, db: Database, box: SecretBox
) -> None:
    view = await service.configure(
        org_id="acme", source="gcp", kind="basic", secret=SECRET, username="gcp-user"
    )
    assert SECRET not in repr(view)
    assert all(SECRET not in str(value) for value in dataclasses.asdict(view).values())
    [row] = await raw_config_rows(db)
    assert all(SECRET not in str(value) for value in row.values())
    ciphertext = row["secret_ciphertext"]
    assert isinstance(ciphertext, str) and box.decrypt(ciphertext) == SECRET


async def test_with_another_key_the_stored_secret_cannot_be_read(
    service: WebhookConfigService, db: Database
) -> None:
    view = await service.configure(org_id="acme", source="zabbix", kind="bearer", secret=SECRET)
    other_key = SecretBox(Fernet.generate_key().decode())
    with pytest.raises(SecretDecryptionError, match="FIRELINE_SECRET_KEY may have changed"):
        await authenticate(
            WebhookConfigService(db, other_key, PUBLIC_URL),
            view,
            headers={"authorization": f"Bearer {SECRET}"},
        )


# --- validation ---------------------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("pagerduty", {"kind": "magic"}, "auth: must be one of none, hmac, bearer, basic, header"),
    ("datadog", {"kind": "hmac", "secret": SECRET}, "auth: hmac is only for sources that sign"),
    ("zabbix", {"kind": "bearer"}, "secret: required when auth is bearer"),
    ("zabbix", {"kind": "bearer", "secret": ""}, "secret: required when auth is bearer"),
    ("zabbix", {"kind": "bearer", "secret": "short"}, "secret: must be 8 to 1024 characters"),
    ("zabbix", {"kind": "bearer", "secret": "x" * 1025}, "secret: must be 8 to 1024 characters"),
    ("zabbix", {"kind": "bearer", "secret": f" {SECRET}"}, "secret: must not start or end"),
    ("zabbix", {"kind": "bearer", "secret": "abc\ndefghij"}, "secret: must not contain control"),
    ("zabbix", {"kind": "none", "secret": SECRET}, "secret: not used when auth is none"),
    ("gcp", {"kind": "basic", "secret": SECRET}, "username: required when auth is basic"),
    ("gcp", {"kind": "basic", "secret": SECRET, "username": "a:b"}, "username: must not contain"),
    ("gcp", {"kind": "query", "secret": SECRET, "username": "u"}, "username: only used when"),
    ("datadog", {"kind": "header", "secret": SECRET}, "header_name: required when auth is header"),
    (
        "datadog",
        {"kind": "header", "secret": SECRET, "header_name": "X Token"},
        "header_name: must be an HTTP header name",
    ),
    (
        "datadog",
        {"kind": "header", "secret": SECRET, "header_name": "X-Token:"},
        "header_name: must be an HTTP header name",
    ),
    (
        "pagerduty",
        {"kind": "hmac", "secret": SECRET, "header_name": "X-Timestamp"},
        "header_name: only used when auth is header",
    ),
]


@pytest.mark.parametrize(("source", "fields", "expected"), INVALID)
async def test_a_rejected_configure_names_the_field_and_changes_nothing(
    service: WebhookConfigService, source: str, fields: dict[str, Any], expected: str
) -> None:
    before = await service.configure(
        org_id="acme", source=source, kind="query", secret=OTHER_SECRET
    )
    with pytest.raises(InvalidInputError) as caught:
        await service.configure(org_id="acme", source=source, **fields)
    assert expected in str(caught.value)
    assert SECRET not in str(caught.value)
    assert await service.get(org_id="acme", source=source) == before
    assert await authenticate(service, before, query={"token": OTHER_SECRET}) == "acme"


async def test_every_problem_is_reported_at_once(service: WebhookConfigService) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await service.configure(org_id="acme", source="gcp", kind="basic", header_name="X-A")
    assert str(caught.value) == (
        "secret: required when auth is basic; username: required when auth is basic; "
        "header_name: only used when auth is header (or hmac for grafana, as its timestamp "
        "header); omit it"
    )


async def test_hmac_lists_the_sources_that_sign(service: WebhookConfigService) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await service.configure(org_id="acme", source="newrelic", kind="hmac", secret=SECRET)
    assert "(pagerduty, grafana)" in str(caught.value)
    assert "for newrelic" in str(caught.value)


async def test_a_rejected_first_configure_creates_no_endpoint(
    service: WebhookConfigService, db: Database
) -> None:
    with pytest.raises(InvalidInputError):
        await service.configure(org_id="acme", source="zabbix", kind="bearer", secret="short")
    assert await raw_config_rows(db) == []


# --- deliveries ---------------------------------------------------------------------------


async def test_a_delivery_is_recorded_once_and_found_again(service: WebhookConfigService) -> None:
    assert await service.find_delivery(org_id="acme", source="pagerduty", delivery_id="d1") is None
    recorded = await service.record_delivery(
        org_id="acme", source="pagerduty", delivery_id="d1", status_code=202, response={"ok": 1}
    )
    duplicate = await service.record_delivery(
        org_id="acme", source="pagerduty", delivery_id="d1", status_code=500, response={}
    )
    assert (recorded, duplicate) == (True, False)
    stored = await service.find_delivery(org_id="acme", source="pagerduty", delivery_id="d1")
    assert stored is not None and (stored.status_code, stored.response) == (202, {"ok": 1})
    assert (
        await service.find_delivery(org_id="globex", source="pagerduty", delivery_id="d1") is None
    )


async def test_an_overlong_delivery_id_is_still_deduplicated(
    service: WebhookConfigService,
) -> None:
    long_id, other_long_id = "a" * 300, "a" * 299 + "b"
    kwargs: dict[str, Any] = {"org_id": "acme", "source": "grafana", "status_code": 202}
    assert await service.record_delivery(delivery_id=long_id, response={"n": 1}, **kwargs)
    assert not await service.record_delivery(delivery_id=long_id, response={"n": 2}, **kwargs)
    assert await service.record_delivery(delivery_id=other_long_id, response={"n": 3}, **kwargs)
    stored = await service.find_delivery(org_id="acme", source="grafana", delivery_id=long_id)
    assert stored is not None and stored.response == {"n": 1}
