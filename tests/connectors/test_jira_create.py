"""Creating Jira issues with the real `jira` client against FakeJira."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from connectors.errors import ConnectorError
from connectors.jira import JiraConnection, JiraConnector, idempotency_label
from tests.fakes.jira_server import FakeJira


def create(
    jira: JiraConnector,
    key: str = "wf-1/create-ticket",
    *,
    project_key: str = "OPS",
    summary: str = "Payment API 5xx",
    **fields: Any,
) -> dict[str, Any]:
    return jira.create_issue(
        project_key=project_key, summary=summary, idempotency_key=key, **fields
    )


def test_create_returns_the_key_and_ticket_url(fake_jira: FakeJira, jira: JiraConnector) -> None:
    result = create(jira)

    assert result == {
        "issue": {"id": "10001", "key": "OPS-1", "self": f"{fake_jira.url}/rest/api/2/issue/10001"},
        "ticket_url": f"{fake_jira.url}/browse/OPS-1",
    }


def test_jira_holds_the_issue_with_every_field_given(
    fake_jira: FakeJira, jira: JiraConnector
) -> None:
    create(
        jira,
        description="Error rate above 5% for 10 minutes",
        issue_type="Bug",
        priority="High",
        labels=["sev1", "payments"],
        components=["api", "database"],
        custom_fields={"customfield_10020": "sre-payments"},
    )

    issue = fake_jira.issue("OPS-1")
    assert issue.summary == "Payment API 5xx"
    assert issue.fields["description"] == "Error rate above 5% for 10 minutes"
    assert issue.issue_type == "Bug"
    assert issue.priority == "High"
    assert issue.labels == ["sev1", "payments", idempotency_label("wf-1/create-ticket")]
    assert issue.components == ["api", "database"]
    assert issue.fields["customfield_10020"] == "sre-payments"


def test_building_the_connector_sends_no_request(
    fake_jira: FakeJira, jira_connection: JiraConnection
) -> None:
    JiraConnector(jira_connection)

    assert fake_jira.requests == []


def test_the_same_idempotency_key_creates_one_issue(
    fake_jira: FakeJira, jira: JiraConnector
) -> None:
    first = create(jira)
    second = create(jira)

    assert second == first
    assert [issue.key for issue in fake_jira.issues] == ["OPS-1"]
    assert fake_jira.calls().count("POST /rest/api/2/issue") == 1


def test_a_replay_on_another_worker_finds_the_issue(
    fake_jira: FakeJira, jira_connection: JiraConnection
) -> None:
    first = create(JiraConnector(jira_connection))
    replayed = create(JiraConnector(jira_connection))

    assert replayed == first
    assert len(fake_jira.issues) == 1


@pytest.mark.parametrize("drop_connection", [False, True], ids=["answer-500", "dropped"])
def test_a_create_jira_accepted_but_whose_answer_was_lost_is_not_repeated(
    fake_jira: FakeJira, jira: JiraConnector, drop_connection: bool
) -> None:
    fake_jira.fail_next_create_after_commit(drop_connection=drop_connection)

    with pytest.raises(ConnectorError) as lost:
        create(jira)
    retried = create(jira)

    assert lost.value.retryable
    assert retried["issue"]["key"] == "OPS-1"
    assert len(fake_jira.issues) == 1


def test_different_idempotency_keys_create_two_issues(
    fake_jira: FakeJira, jira: JiraConnector
) -> None:
    first = create(jira, key="wf-1/create-ticket")
    second = create(jira, key="wf-2/create-ticket")

    assert (first["issue"]["key"], second["issue"]["key"]) == ("OPS-1", "OPS-2")
    assert len(fake_jira.issues) == 2


def test_threads_sharing_a_connector_create_one_issue_per_key(
    fake_jira: FakeJira, jira: JiraConnector
) -> None:
    keys = [f"wf-{n % 4}/create-ticket" for n in range(12)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda key: create(jira, key=key), keys))

    assert len(fake_jira.issues) == 4
    assert len({r["issue"]["key"] for r in results}) == 4


@pytest.mark.parametrize(
    ("deployment_type", "deployment", "expected_calls"),
    [
        ("Server", "auto", ["GET /rest/api/2/serverInfo", "GET /rest/api/2/search"]),
        ("Cloud", "auto", ["GET /rest/api/2/serverInfo", "GET /rest/api/2/search/jql"]),
        ("Cloud", "cloud", ["GET /rest/api/2/search/jql"]),
        ("Server", "server", ["GET /rest/api/2/search"]),
    ],
)
def test_search_uses_the_endpoint_the_deployment_offers(
    deployment_type: str, deployment: str, expected_calls: list[str]
) -> None:
    with FakeJira(deployment_type=deployment_type) as fake:
        connection = JiraConnection.model_validate(
            {
                "url": fake.url,
                "email": fake.USER,
                "api_token": fake.API_TOKEN,
                "deployment": deployment,
            }
        )
        create(JiraConnector(connection))
        create(JiraConnector(connection))

        calls = [c for c in fake.calls() if "serverInfo" in c or "/search" in c]
        assert calls == expected_calls * 2
        assert len(fake.issues) == 1


def test_a_personal_access_token_signs_in_as_bearer(fake_jira: FakeJira) -> None:
    connector = JiraConnector(JiraConnection(url=fake_jira.url, token=FakeJira.PAT))

    assert create(connector)["issue"]["key"] == "OPS-1"
    assert fake_jira.requests[-1].headers["authorization"] == f"Bearer {FakeJira.PAT}"


def test_a_single_label_given_as_text_stays_one_label(
    fake_jira: FakeJira, jira: JiraConnector
) -> None:
    create(jira, labels="urgent")

    assert fake_jira.issue("OPS-1").labels[0] == "urgent"


def test_custom_fields_cannot_replace_the_named_arguments(
    fake_jira: FakeJira, jira: JiraConnector
) -> None:
    with pytest.raises(ConnectorError, match="custom_fields must not set labels, summary") as err:
        create(jira, custom_fields={"summary": "other", "labels": ["x"]})

    assert not err.value.retryable
    assert fake_jira.issues == []


@pytest.mark.parametrize("missing", ["project_key", "summary"])
def test_an_empty_required_argument_is_refused_before_any_request(
    fake_jira: FakeJira, jira: JiraConnector, missing: str
) -> None:
    with pytest.raises(ConnectorError, match=f"{missing} must not be empty") as err:
        create(jira, **{missing: ""})

    assert not err.value.retryable
    assert fake_jira.requests == []


def test_an_empty_idempotency_key_is_refused(fake_jira: FakeJira, jira: JiraConnector) -> None:
    with pytest.raises(ConnectorError, match="idempotency_key must not be empty"):
        create(jira, key="")

    assert fake_jira.requests == []
