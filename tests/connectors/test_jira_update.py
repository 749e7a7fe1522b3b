"""Updating and transitioning Jira issues with the real `jira` client against FakeJira."""

from __future__ import annotations

import pytest

from connectors.errors import ConnectorError
from connectors.jira import JiraConnector, idempotency_label
from tests.fakes.jira_server import FakeJira


@pytest.fixture
def issue_key(fake_jira: FakeJira, jira: JiraConnector) -> str:
    created = jira.create_issue(
        project_key="OPS", summary="Disk full", labels=["sev2"], idempotency_key="wf-9/ticket"
    )
    return str(created["issue"]["key"])


def test_a_transition_by_name_moves_the_issue_and_adds_the_comment(
    fake_jira: FakeJira, jira: JiraConnector, issue_key: str
) -> None:
    result = jira.update_issue(issue_id=issue_key, transition_to="Start Progress", comment="on it")

    assert result == {
        "issue": {
            "id": "10001",
            "key": issue_key,
            "self": f"{fake_jira.url}/rest/api/2/issue/10001",
        },
        "ticket_url": f"{fake_jira.url}/browse/{issue_key}",
        "transitioned_to": "In Progress",
    }
    issue = fake_jira.issue(issue_key)
    assert (issue.status, issue.comments) == ("In Progress", ["on it"])


def test_the_target_status_name_also_picks_the_transition(
    fake_jira: FakeJira, jira: JiraConnector, issue_key: str
) -> None:
    result = jira.update_issue(issue_id=issue_key, transition_to="done")

    assert result["transitioned_to"] == "Done"
    assert fake_jira.issue(issue_key).status == "Done"


def test_a_retried_transition_to_the_status_reached_succeeds_without_moving(
    fake_jira: FakeJira, jira: JiraConnector, issue_key: str
) -> None:
    jira.update_issue(issue_id=issue_key, transition_to="Done")
    fake_jira.clear_requests()

    again = jira.update_issue(issue_id=issue_key, transition_to="Done", comment="resolved")

    assert again["transitioned_to"] == "Done"
    assert not any("transitions" in call for call in fake_jira.calls())
    assert fake_jira.issue(issue_key).comments == ["resolved"]


def test_an_unknown_transition_is_final_and_lists_the_available_ones(
    fake_jira: FakeJira, jira: JiraConnector, issue_key: str
) -> None:
    with pytest.raises(ConnectorError) as err:
        jira.update_issue(issue_id=issue_key, transition_to="Close", comment="bye")

    assert not err.value.retryable
    assert "no transition 'Close' from status 'To Do'" in str(err.value)
    assert "Start Progress (to In Progress), Resolve (to Done)" in str(err.value)
    assert fake_jira.issue(issue_key).comments == []


def test_fields_are_edited_and_the_idempotency_label_is_kept(
    fake_jira: FakeJira, jira: JiraConnector, issue_key: str
) -> None:
    jira.update_issue(
        issue_id=issue_key, summary="Disk full on db-1", description="95% used", labels=["sev1"]
    )

    issue = fake_jira.issue(issue_key)
    assert issue.summary == "Disk full on db-1"
    assert issue.fields["description"] == "95% used"
    assert issue.labels == ["sev1", idempotency_label("wf-9/ticket")]


def test_an_issue_can_be_named_by_its_numeric_id(
    fake_jira: FakeJira, jira: JiraConnector, issue_key: str
) -> None:
    result = jira.update_issue(issue_id=fake_jira.issue(issue_key).id, comment="noted")

    assert result["issue"]["key"] == issue_key
    assert "transitioned_to" not in result
    assert fake_jira.issue(issue_key).comments == ["noted"]


def test_an_unknown_issue_is_a_final_not_found_error(jira: JiraConnector) -> None:
    with pytest.raises(ConnectorError) as err:
        jira.update_issue(issue_id="OPS-404", comment="hello")

    assert (err.value.retryable, err.value.status_code) == (False, 404)
    assert "could not update issue OPS-404" in str(err.value)
    assert "Issue does not exist" in str(err.value)
