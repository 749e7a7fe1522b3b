"""Google Cloud Monitoring specifics: epoch seconds, labels, documentation links."""

from __future__ import annotations

import pytest

from ingest.model import SourceStatus
from tests.ingest.payloads import load, map_one, with_value, without

DOCS = "gcp-monitoring-closed-docs-example.json"


@pytest.mark.parametrize(
    ("value", "severity"),
    [("Critical", "critical"), ("Error", "high"), ("WARNING", "medium"), ("no severity", None)],
)
def test_policy_severity(value: str, severity: str | None) -> None:
    incident = map_one("gcp", with_value(load(DOCS), "incident.severity", value))

    assert (incident.severity, incident.original_severity) == (severity, value)


def test_absent_severity_is_none() -> None:
    incident = map_one("gcp", without(load(DOCS), "incident.severity"))

    assert (incident.severity, incident.original_severity) == (None, None)


def test_user_labels_fill_metadata_and_tags() -> None:
    labels = {"service": "checkout", "environment": "prod", "team": "payments"}
    payload = with_value(load(DOCS), "incident.metadata.user_labels", labels)

    metadata = map_one("gcp", payload).metadata

    assert (metadata.service, metadata.environment, metadata.team) == (
        "checkout",
        "prod",
        "payments",
    )
    assert "service:checkout" in metadata.tags
    assert "user-label-1:important label" in metadata.tags  # policy_user_labels


def test_policy_condition_and_project_are_kept() -> None:
    fields = map_one("gcp", load(DOCS)).metadata.custom_fields

    assert fields["policy_name"] == "Monitor-Project-Cluster"
    assert fields["condition_name"] == "VM Instance - CPU utilization [MAX]"
    assert fields["project_id"] == "internal-project"
    assert fields["observed_value"] == "0.835"


def test_an_open_incident_ignores_ended_at() -> None:
    payload = with_value(load(DOCS), "incident.state", "open")

    incident = map_one("gcp", payload)

    assert (incident.status, incident.timeline.resolved_at) == (SourceStatus.OPEN, None)


def test_title_falls_back_to_the_summary() -> None:
    payload = without(without(load(DOCS), "incident.policy_name"), "incident.condition_name")

    assert map_one("gcp", payload).title.startswith("CPU utilization for internal-project")


def test_description_joins_summary_and_documentation() -> None:
    description = map_one("gcp", load(DOCS)).description

    assert description is not None
    assert description.startswith("CPU utilization for internal-project")
    assert "\n\nTEST ALERT\n" in description
