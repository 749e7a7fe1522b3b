"""Signing in to ServiceNow (basic, OAuth password grant with refresh) and the typed errors
a failure becomes: what a user reads, and whether a retry may help."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from connectors.errors import ConnectorError
from connectors.servicenow import ServiceNowConnection, ServiceNowConnector
from connectors.servicenow_errors import (
    ServiceNowAsleepError,
    ServiceNowAuthError,
    ServiceNowThrottledError,
)
from tests.fakes.servicenow_server import FakeServiceNow

FIELDS = {"short_description": "Checkout 5xx"}


@pytest.fixture(autouse=True)
def _oauth_over_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake serves http


def oauth(fake: FakeServiceNow, **changes: str) -> ServiceNowConnector:
    fields = {
        "service_now_base_url": fake.url,  # Keep's spelling
        "username": fake.USER,
        "password": fake.PASSWORD,
        "client_id": fake.CLIENT_ID,
        "client_secret": fake.CLIENT_SECRET,
        **changes,
    }
    return ServiceNowConnector(ServiceNowConnection.model_validate(fields))


@pytest.fixture
def short_lived() -> Iterator[FakeServiceNow]:
    with FakeServiceNow(token_lifetime=3600) as fake:
        yield fake


def test_basic_auth_sends_the_account(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    servicenow.create_incident(FIELDS, idempotency_key="k")

    assert fake_servicenow.incident("INC0010001")["sys_updated_by"] == FakeServiceNow.USER
    assert all(r.headers["authorization"].startswith("Basic ") for r in fake_servicenow.requests)


def test_oauth_fetches_one_token_and_reuses_it(short_lived: FakeServiceNow) -> None:
    connector = oauth(short_lived)

    connector.create_incident(FIELDS, idempotency_key="k1")
    connector.create_incident(FIELDS, idempotency_key="k2")

    assert short_lived.grants == ["password"]
    api_calls = [r for r in short_lived.requests if r.path.startswith("/api/")]
    assert all(r.headers["authorization"].startswith("Bearer ") for r in api_calls)


def test_a_refused_token_is_replaced_and_the_call_goes_through(short_lived: FakeServiceNow) -> None:
    connector = oauth(short_lived)
    connector.create_incident(FIELDS, idempotency_key="k1")
    short_lived.expire_tokens()

    connector.create_incident(FIELDS, idempotency_key="k2")

    assert len(short_lived.incidents) == 2
    assert short_lived.grants == ["password", "password"]


def test_an_expired_token_is_refreshed(short_lived: FakeServiceNow) -> None:
    short_lived.next_lifetimes = [-60]  # the first token arrives already expired

    oauth(short_lived).create_incident(FIELDS, idempotency_key="k1")

    assert short_lived.grants == ["password", "refresh_token"]
    assert len(short_lived.incidents) == 1


def test_a_wrong_client_secret_is_an_auth_error_that_names_what_to_check(
    short_lived: FakeServiceNow,
) -> None:
    with pytest.raises(ServiceNowAuthError) as refused:
        oauth(short_lived, client_secret="wrong").create_incident(FIELDS, idempotency_key="k")

    assert not refused.value.retryable
    assert "client_secret" in str(refused.value)
    assert short_lived.incidents == {}


def test_a_wrong_password_is_an_auth_error_without_the_password(
    fake_servicenow: FakeServiceNow,
) -> None:
    connection = ServiceNowConnection(
        url=fake_servicenow.url, username=FakeServiceNow.USER, password="hunter2-wrong"
    )

    with pytest.raises(ServiceNowAuthError) as refused:
        ServiceNowConnector(connection).create_incident(FIELDS, idempotency_key="k")

    assert refused.value.status_code == 401
    assert not refused.value.retryable
    assert "authentication failed" in str(refused.value)
    assert "hunter2" not in str(refused.value)
    assert "hunter2" not in repr(connection)


def test_no_credential_reaches_the_logs(
    short_lived: FakeServiceNow, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    oauth(short_lived).create_incident(FIELDS, idempotency_key="k")

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert FakeServiceNow.PASSWORD not in logged
    assert FakeServiceNow.CLIENT_SECRET not in logged


def test_throttling_is_retryable_and_carries_retry_after(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    fake_servicenow.fail_next(429, retry_after="7")

    with pytest.raises(ServiceNowThrottledError) as throttled:
        servicenow.create_incident(FIELDS, idempotency_key="k")

    assert throttled.value.retryable
    assert throttled.value.retry_after == 7.0
    assert "retrying in 7s" in str(throttled.value)
    assert fake_servicenow.incidents == {}


def test_a_hibernating_instance_is_retryable_with_a_clear_message(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    fake_servicenow.asleep = True

    with pytest.raises(ServiceNowAsleepError) as asleep:
        servicenow.create_incident(FIELDS, idempotency_key="k")

    assert asleep.value.retryable
    assert "hibernating" in str(asleep.value)


def test_an_unreachable_instance_is_retryable(closed_port_url: str) -> None:
    connection = ServiceNowConnection(url=closed_port_url, username="u", password="p", timeout=2)

    with pytest.raises(ConnectorError) as unreachable:
        ServiceNowConnector(connection).get("INC0010001")

    assert unreachable.value.retryable
    assert "reachable" in str(unreachable.value)


def test_a_server_error_is_retryable_and_a_forbidden_table_is_not(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    fake_servicenow.fail_next(503)
    with pytest.raises(ConnectorError) as unavailable:
        servicenow.get("INC0010001")
    fake_servicenow.fail_next(403)
    with pytest.raises(ServiceNowAuthError) as forbidden:
        servicenow.get("INC0010001")

    assert unavailable.value.retryable
    assert not forbidden.value.retryable
    assert "itil" in str(forbidden.value)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"username": "u", "password": "p"}, "url"),
        ({"url": "ftp://x", "username": "u", "password": "p"}, "http(s) URL"),
        ({"url": "x.service-now.com", "username": "u", "password": "p", "client_id": "c"}, "both"),
        ({"url": "x.service-now.com", "username": "u", "password": "p", "pasword": "t"}, "pasword"),
    ],
)
def test_a_badly_written_connection_is_refused(fields: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match="validation error") as refused:
        ServiceNowConnection.model_validate(fields)

    assert problem in str(refused.value)
    assert "'p'" not in str(refused.value)  # the input is not echoed
