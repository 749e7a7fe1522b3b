"""What the Jira connector raises when Jira or the network fails, and what it says."""

from __future__ import annotations

import ssl
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.errors import ConnectorError
from connectors.jira import JiraConnection, JiraConnector
from tests.fakes.http_target import HttpTarget
from tests.fakes.jira_server import FakeJira


def create_in(jira: JiraConnector, project: str = "OPS", **fields: Any) -> None:
    jira.create_issue(project_key=project, summary="x", idempotency_key="k", **fields)


def test_wrong_credentials_are_final_and_do_not_reveal_the_token(fake_jira: FakeJira) -> None:
    wrong = "wrong-token-0b5e1d"
    connection = JiraConnection(url=fake_jira.url, email=FakeJira.USER, api_token=wrong)

    with pytest.raises(ConnectorError) as err:
        create_in(JiraConnector(connection))

    assert (err.value.retryable, err.value.status_code) == (False, 401)
    assert (
        f"authentication failed for {fake_jira.url} as {FakeJira.USER}: "
        "check the jira connection credentials"
    ) in str(err.value)
    assert wrong not in str(err.value)
    assert err.value.__cause__ is None


def test_a_wrong_bearer_token_names_no_user(fake_jira: FakeJira) -> None:
    connection = JiraConnection(url=fake_jira.url, token="not-the-pat")

    with pytest.raises(ConnectorError, match="as the configured bearer token") as err:
        create_in(JiraConnector(connection))

    assert "not-the-pat" not in str(err.value)


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_rate_limits_and_server_errors_are_retryable_and_tried_once(
    fake_jira: FakeJira, jira: JiraConnector, status: int
) -> None:
    fake_jira.fail_next(status, method="POST", path_contains="/issue")

    with pytest.raises(ConnectorError) as err:
        create_in(jira)

    assert (err.value.retryable, err.value.status_code) == (True, status)
    assert fake_jira.calls().count("POST /rest/api/2/issue") == 1  # the library did not retry
    assert fake_jira.issues == []


@pytest.mark.parametrize(
    ("fields", "jira_says"),
    [
        ({"custom_fields": {"customfield_999": "x"}}, "customfield_999: Field 'customfield_999'"),
        ({"priority": "Urgent"}, "priority: Specify a valid priority ('Urgent'"),
        ({"components": ["frontend"]}, "components: Component name 'frontend' is not valid"),
        ({"labels": ["two words"]}, "labels: The label 'two words' contains spaces"),
        ({"project": "NOPE"}, "project: valid project is required"),
    ],
)
def test_a_rejected_create_is_final_and_quotes_jira(
    fake_jira: FakeJira, jira: JiraConnector, fields: dict[str, Any], jira_says: str
) -> None:
    with pytest.raises(ConnectorError) as err:
        create_in(jira, **fields)

    assert (err.value.retryable, err.value.status_code) == (False, 400)
    assert "could not create an issue in project" in str(err.value)
    assert "jira rejected the request" in str(err.value)
    assert jira_says in str(err.value)
    assert fake_jira.issues == []


def test_an_unreachable_site_is_retryable(closed_port_url: str) -> None:
    connection = JiraConnection(
        url=closed_port_url, email="bot", api_token="t", deployment="server"
    )

    with pytest.raises(ConnectorError) as err:
        create_in(JiraConnector(connection))

    assert err.value.retryable
    assert f"connection refused talking to {closed_port_url}" in str(err.value)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_an_untrusted_certificate_is_final_unless_verification_is_off(
    tls_context: ssl.SSLContext,
) -> None:
    with FakeJira(ssl_context=tls_context) as fake:
        settings = {"url": fake.url, "email": fake.USER, "api_token": fake.API_TOKEN}
        verified = JiraConnector(JiraConnection.model_validate(settings))
        unverified = JiraConnector(JiraConnection.model_validate({**settings, "verify_tls": False}))

        with pytest.raises(ConnectorError, match=f"TLS verification of {fake.url} failed") as err:
            create_in(verified)
        create_in(unverified)

    assert not err.value.retryable
    assert len(fake.issues) == 1


@pytest.mark.parametrize(
    ("field_list", "problem"),
    [
        ("<html>Sign in</html>", "did not answer with JSON"),
        (None, "answered in a shape Jira does not use"),  # HttpTarget's {"ok": true}
    ],
)
def test_a_site_that_is_not_jira_is_a_final_error(
    target: HttpTarget, field_list: str | None, problem: str
) -> None:
    if field_list is not None:
        target.set_reply("/rest/api/2/field", text=field_list)
    connection = JiraConnection(url=target.url, email="bot", api_token="t", deployment="server")

    with pytest.raises(ConnectorError, match=problem) as err:
        create_in(JiraConnector(connection))

    assert not err.value.retryable


def test_a_connection_needs_exactly_one_way_to_sign_in() -> None:
    with pytest.raises(ValidationError, match="give exactly one of api_token"):
        JiraConnection(url="https://acme.atlassian.net", email="bot@acme.io")
    with pytest.raises(ValidationError, match="need a username"):
        JiraConnection(url="https://acme.atlassian.net", api_token="t")


def test_a_connection_never_shows_its_secrets() -> None:
    connection = JiraConnection.model_validate(
        {"host": "acme.atlassian.net/", "email": "bot@acme.io", "api_token": "s3cret"}
    )
    with pytest.raises(ValidationError, match="must be an http") as err:
        JiraConnection.model_validate({"url": "ftp://acme", "password": "s3cret", "username": "u"})

    assert connection.url == "https://acme.atlassian.net"  # a bare host, as Keep accepts
    assert "s3cret" not in repr(connection)
    assert "s3cret" not in str(err.value)
