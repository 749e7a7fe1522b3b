"""New Relic specifics: acknowledgements, loose types, optional template keys."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.model import SourceStatus
from tests.ingest.payloads import load, map_one, with_value

ACTIVATED = "newrelic-activated.json"


def test_is_correlated_as_a_string_is_read_as_a_boolean() -> None:
    incident = map_one("newrelic", load("newrelic-acknowledged.json"))

    assert incident.metadata.custom_fields["is_correlated"] is False


def test_times_as_numeric_strings_are_read() -> None:
    payload = with_value(load(ACTIVATED), "createdAt", "1713755131352")

    assert map_one("newrelic", payload).timeline.start == datetime(
        2024, 4, 22, 3, 5, 31, 352000, tzinfo=UTC
    )


def test_state_acknowledged_or_acknowledged_at_means_acknowledged() -> None:
    by_state = with_value(load(ACTIVATED), "state", "ACKNOWLEDGED")
    by_time = with_value(load(ACTIVATED), "acknowledgedAt", 1713769800000)

    assert map_one("newrelic", by_state).status is SourceStatus.ACKNOWLEDGED
    assert map_one("newrelic", by_time).status is SourceStatus.ACKNOWLEDGED
    assert map_one("newrelic", load(ACTIVATED)).status is SourceStatus.OPEN


def test_a_user_action_acknowledges_only_an_activated_issue() -> None:
    acknowledged = load("newrelic-acknowledged.json")  # ACTIVATED + USER_ACTION
    closed_by_user = with_value(acknowledged, "state", "CLOSED")
    created = with_value(acknowledged, "state", "CREATED")

    assert map_one("newrelic", acknowledged).status is SourceStatus.ACKNOWLEDGED
    assert map_one("newrelic", closed_by_user).status is SourceStatus.RESOLVED
    assert map_one("newrelic", created).status is SourceStatus.OPEN


def test_closed_at_is_preferred_for_the_resolve_time() -> None:
    payload = with_value(load("newrelic-closed.json"), "closedAt", 1713766650000)

    incident = map_one("newrelic", payload)

    assert incident.timeline.resolved_at == datetime(2024, 4, 22, 6, 17, 30, tzinfo=UTC)


def test_accumulated_tags_fill_the_metadata() -> None:
    tags = {"environment": ["production"], "service": ["checkout"], "team": "payments"}

    metadata = map_one("newrelic", with_value(load(ACTIVATED), "tags", tags)).metadata

    assert (metadata.service, metadata.environment, metadata.team) == (
        "checkout",
        "production",
        "payments",
    )
    assert metadata.tags == ["environment:production", "service:checkout", "team:payments"]


def test_policies_and_conditions_are_kept() -> None:
    fields = map_one("newrelic", load(ACTIVATED)).metadata.custom_fields

    assert fields["alert_policy_names"] == ["Golden Signals"]
    assert fields["alert_condition_names"] == ["Zulip Server Low Storage"]
    assert fields["workflow_name"] == "testWorkflow"


def test_evidence_event_is_the_trigger() -> None:
    (event,) = map_one("newrelic", load(ACTIVATED)).evidence_lite.events

    assert event.name == "STATE_CHANGE"
    assert event.timestamp == datetime(2024, 4, 22, 7, 8, 28, 699000, tzinfo=UTC)
    assert event.message == (
        "ACTIVATED (STATE_CHANGE): zulip_app query result is > 1.0 for 1 minutes on "
        "'Zulip Server Low Storage'"
    )
