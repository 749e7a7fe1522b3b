"""ServiceNow incident records: states, priorities, display/value objects, wrapped bodies,
shape errors, delivery ids and the records of tickets Fireline opened itself."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ingest.model import GenericSeverity, SourceStatus, TicketRef
from ingest.sources import PayloadShapeError
from tests.conftest import FIXTURES
from tests.ingest.payloads import LATER, RECEIVED_AT, deliver, map_one

SERVICENOW_FIXTURES = FIXTURES.parent / "servicenow"
SYS_ID = "9d385017c611228701d22104cc95c371"
FORM = f"https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id={SYS_ID}"
OPEN, ACKNOWLEDGED, RESOLVED = SourceStatus.OPEN, SourceStatus.ACKNOWLEDGED, SourceStatus.RESOLVED
CRITICAL, HIGH, MEDIUM = GenericSeverity.CRITICAL, GenericSeverity.HIGH, GenericSeverity.MEDIUM
LOW, INFO = GenericSeverity.LOW, GenericSeverity.INFO


def record(name: str = "incident-new.json", **changes: Any) -> dict[str, Any]:
    """A fixture record with fields replaced (None removes one)."""
    loaded: dict[str, Any] = json.loads((SERVICENOW_FIXTURES / name).read_text())
    for field, value in changes.items():
        if value is None:
            loaded.pop(field, None)
        else:
            loaded[field] = value
    return loaded


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def shape_problems(payload: Any) -> list[str]:
    before = copy.deepcopy(payload)
    with pytest.raises(PayloadShapeError) as caught:
        deliver("servicenow", payload)
    assert payload == before
    return caught.value.problems


# ----------------------------------------------------------------------------- the fixtures


def test_a_new_record_becomes_an_open_incident_with_every_field() -> None:
    incident = map_one("servicenow", record())

    assert (incident.source_type, incident.source_ref) == ("SERVICENOW", SYS_ID)
    assert incident.title == "Checkout API returns 502 for all EU customers"
    assert incident.description is not None
    assert incident.description.startswith("Since 08:05 UTC the checkout endpoint")
    assert (incident.severity, incident.original_severity) == (HIGH, "2 - High")
    assert incident.status is OPEN
    assert (incident.timeline.start, incident.resolved_at) == (utc(2026, 3, 10, 8, 12, 7), None)
    assert (incident.metadata.service, incident.metadata.team) == ("db-prod-eu-01", "Database")
    assert incident.metadata.tags == ["servicenow:INC0010023", "category:software"]
    assert incident.metadata.custom_fields == {
        "number": "INC0010023",
        "sys_id": SYS_ID,
        "ci_association": {"ci": "db-prod-eu-01"},
        "caller": "Fred Luddy",
        "category": "software",
        "impact": "1",
        "urgency": "2",
    }
    assert [(link.url, link.label) for link in incident.links] == [(FORM, "ServiceNow incident")]
    assert incident.ticket == TicketRef(system="servicenow", id="INC0010023", url=FORM)
    (event,) = incident.evidence_lite.events
    assert (event.name, event.timestamp, event.correlation_key) == (
        "New",
        utc(2026, 3, 10, 8, 12, 7),
        SYS_ID,
    )
    assert event.message == (
        "INC0010023 New: Checkout API returns 502 for all EU customers "
        "(priority 2 - High, assigned to Database)"
    )


def test_the_resolved_record_resolves_the_same_incident_at_its_resolve_time() -> None:
    delivery = deliver("servicenow", record("incident-resolved.json"))

    (incident,) = delivery.incidents
    assert (incident.source_ref, incident.status) == (SYS_ID, RESOLVED)
    assert incident.resolved_at == utc(2026, 3, 10, 9, 47, 30)
    (event,) = incident.evidence_lite.events
    assert (event.name, event.timestamp) == ("Resolved", utc(2026, 3, 10, 9, 47, 30))
    assert event.message.endswith(
        "(priority 2 - High, assigned to Database, Solved (Permanently): Failed over "
        "db-prod-eu-01 to its replica; connection pool limits raised.)"
    )
    assert (delivery.delivery_id, delivery.changed_by) == (f"{SYS_ID}:4", "beth.anglin")


def test_a_table_api_answer_reads_names_from_display_values_and_codes_from_values() -> None:
    incident = map_one("servicenow", record("incident-table-api.json"))

    assert incident.source_ref == "46e18c0fa9fe19810066a0083f76bd56"
    assert incident.title == "Payment gateway timeouts in us-east-1"
    assert (incident.severity, incident.original_severity) == (CRITICAL, "1 - Critical")
    assert incident.status is ACKNOWLEDGED
    # The value (UTC), never the display value (the user's zone).
    assert incident.timeline.start == utc(2026, 3, 11, 14, 21, 44)
    assert (incident.metadata.service, incident.metadata.team) == ("pay-gw-use1-02", "Network")
    assert incident.metadata.custom_fields["caller"] == "Abel Tuter"
    assert incident.metadata.custom_fields["ci_association"] == {"ci": "pay-gw-use1-02"}
    assert incident.evidence_lite.events[0].name == "In Progress"
    # No instance_url: no link to guess.
    assert (incident.links, incident.ticket) == (
        [],
        TicketRef(system="servicenow", id="INC0010031", url=None),
    )


def test_mapping_does_not_depend_on_the_time_received_nor_change_the_body() -> None:
    body = record("incident-table-api.json")
    before = copy.deepcopy(body)

    first = deliver("servicenow", body, received_at=RECEIVED_AT)

    assert deliver("servicenow", body, received_at=LATER) == first
    assert body == before


# ----------------------------------------------------------------------------- states


@pytest.mark.parametrize(
    ("state", "label", "status"),
    [
        ("1", "New", OPEN),
        ("2", "In Progress", ACKNOWLEDGED),
        ("3", "On Hold", ACKNOWLEDGED),
        ("6", "Resolved", RESOLVED),
        ("7", "Closed", RESOLVED),
        ("8", "Canceled", RESOLVED),
    ],
)
def test_each_state_by_number_label_or_display_value(
    state: str, label: str, status: SourceStatus
) -> None:
    for sent in (state, label, {"value": state, "display_value": label}):
        incident = map_one("servicenow", record(state=sent))

        assert incident.status is status, sent
        assert incident.evidence_lite.events[0].name == label


def test_only_a_resolved_state_reads_the_resolve_time() -> None:
    times = {"resolved_at": "2026-03-10 09:00:00", "closed_at": "2026-03-10 10:00:00"}

    reopened = map_one("servicenow", record(state="2", **times))
    closed = map_one("servicenow", record(state="7", **times))

    assert (reopened.status, reopened.resolved_at) == (ACKNOWLEDGED, None)
    assert closed.resolved_at == utc(2026, 3, 10, 9)


def test_a_canceled_record_resolves_at_its_close_time() -> None:
    incident = map_one("servicenow", record(state="8", closed_at="2026-03-10 08:30:00"))

    assert (incident.status, incident.resolved_at) == (RESOLVED, utc(2026, 3, 10, 8, 30))
    assert incident.evidence_lite.events[0].message.startswith("INC0010023 Canceled: ")


@pytest.mark.parametrize(
    ("active", "status"), [("false", RESOLVED), ("0", RESOLVED), ("true", OPEN), (None, OPEN)]
)
def test_a_state_of_the_instance_own_follows_active(active: str, status: SourceStatus) -> None:
    sent = {"value": "-5", "display_value": "Awaiting Vendor"}

    incident = map_one("servicenow", record(state=sent, active=active))

    assert incident.status is status
    assert incident.evidence_lite.events[0].name == "Awaiting Vendor"


# ----------------------------------------------------------------------------- priorities


@pytest.mark.parametrize(
    ("priority", "severity", "original"),
    [
        ("1", CRITICAL, "1 - Critical"),
        ("2", HIGH, "2 - High"),
        ("3", MEDIUM, "3 - Moderate"),
        ("4", LOW, "4 - Low"),
        ("5", INFO, "5 - Planning"),
    ],
)
def test_each_priority(priority: str, severity: GenericSeverity, original: str) -> None:
    for sent in (priority, original, {"value": priority, "display_value": original}):
        incident = map_one("servicenow", record(priority=sent))

        assert (incident.severity, incident.original_severity) == (severity, original), sent


def test_a_renamed_priority_keeps_the_instance_label() -> None:
    incident = map_one("servicenow", record(priority={"value": "1", "display_value": "P1 - Sev"}))

    assert (incident.severity, incident.original_severity) == (CRITICAL, "P1 - Sev")


@pytest.mark.parametrize(
    ("impact", "urgency", "severity", "label"),
    [
        ("1", "1", CRITICAL, "1 - Critical"),
        ("1", "2", HIGH, "2 - High"),
        ("1", "3", MEDIUM, "3 - Moderate"),
        ("2", "1", HIGH, "2 - High"),
        ("2", "2", MEDIUM, "3 - Moderate"),
        ("2", "3", LOW, "4 - Low"),
        ("3", "1", MEDIUM, "3 - Moderate"),
        ("3", "2", LOW, "4 - Low"),
        ("3", "3", INFO, "5 - Planning"),
    ],
)
@pytest.mark.parametrize("priority", [None, "", "0", "9"])
def test_without_a_priority_on_the_scale_impact_and_urgency_give_it(
    priority: str | None, impact: str, urgency: str, severity: GenericSeverity, label: str
) -> None:
    payload = record(priority=priority, impact=f"{impact} - x", urgency=urgency)

    incident = map_one("servicenow", payload)

    assert incident.severity is severity
    assert incident.original_severity == f"{label} (impact {impact}, urgency {urgency})"


def test_without_priority_impact_or_urgency_there_is_no_severity() -> None:
    incident = map_one("servicenow", record(priority=None, impact="", urgency=None))

    assert (incident.severity, incident.original_severity) == (None, None)
    assert "priority" not in incident.evidence_lite.events[0].message


# ----------------------------------------------------------------------------- names, links


@pytest.mark.parametrize(
    "ci",
    [
        "b0c25d1bc0a800090168be1bfcdcd759",
        {"link": "https://acme.service-now.com/api/now/table/cmdb_ci/b0c2", "value": "b0c2" * 8},
        "",
    ],
)
def test_a_reference_without_a_display_value_names_nothing(ci: Any) -> None:
    incident = map_one("servicenow", record(cmdb_ci=ci, assignment_group=ci))

    assert (incident.metadata.service, incident.metadata.team) == (None, None)
    assert "ci_association" not in incident.metadata.custom_fields


def test_a_plain_name_is_used_as_sent() -> None:
    incident = map_one("servicenow", record(cmdb_ci="web-01", assignment_group="Service Desk"))

    assert (incident.metadata.service, incident.metadata.team) == ("web-01", "Service Desk")
    assert incident.metadata.custom_fields["ci_association"] == {"ci": "web-01"}


@pytest.mark.parametrize(
    "instance", ["https://acme.service-now.com", "https://acme.service-now.com/"]
)
def test_the_form_link_is_built_on_the_instance_url(instance: str) -> None:
    incident = map_one("servicenow", record(instance_url=instance))

    assert [link.url for link in incident.links] == [FORM]


@pytest.mark.parametrize("instance", [None, "", "acme.service-now.com", "ftp://acme.example"])
def test_without_a_usable_instance_url_there_is_no_link(instance: str | None) -> None:
    incident = map_one("servicenow", record(instance_url=instance))

    assert incident.links == []
    assert incident.ticket == TicketRef(system="servicenow", id="INC0010023", url=None)


def test_a_record_without_a_number_is_its_own_ticket_by_sys_id() -> None:
    incident = map_one("servicenow", record(number=None))

    assert incident.ticket is not None and incident.ticket.id == SYS_ID
    assert incident.metadata.tags == ["category:software"]
    assert incident.evidence_lite.events[0].message.startswith(f"{SYS_ID} New: ")


# ----------------------------------------------------------------------------- bodies, ids


@pytest.mark.parametrize("wrapper", ["result", "record"])
def test_a_wrapped_record_maps_as_the_bare_one(wrapper: str) -> None:
    bare = deliver("servicenow", record())

    assert deliver("servicenow", {wrapper: record()}) == bare


def test_only_the_version_of_a_record_changes_the_delivery_id() -> None:
    first = deliver("servicenow", record())
    work_note = record(sys_updated_on="2026-03-10 08:40:00", sys_mod_count="1")

    again = deliver("servicenow", {**work_note, "sys_updated_by": "beth.anglin"})

    assert (first.delivery_id, again.delivery_id) == (f"{SYS_ID}:0", f"{SYS_ID}:1")
    assert again.incidents == first.incidents  # the evidence event included
    assert (first.changed_by, again.changed_by) == ("fred.luddy", "beth.anglin")


def test_without_a_mod_count_the_update_time_names_the_version() -> None:
    delivery = deliver("servicenow", record(sys_mod_count=None))
    unversioned = deliver("servicenow", record(sys_mod_count=None, sys_updated_on=None))

    assert delivery.delivery_id == f"{SYS_ID}:2026-03-10 08:12:09"
    assert unversioned.delivery_id is None


# ----------------------------------------------------------------------------- refusals


def test_a_body_without_sys_id_and_short_description_names_both() -> None:
    assert shape_problems({"number": "INC0010023", "state": "1"}) == [
        "sys_id: missing",
        "short_description: missing",
    ]


def test_a_wrapped_record_names_the_fields_under_its_wrapper() -> None:
    assert shape_problems({"result": {"sys_id": {"value": ""}, "short_description": "x"}}) == [
        "result.sys_id: missing"
    ]


def test_an_empty_short_description_is_missing() -> None:
    assert shape_problems(record(short_description="  ")) == ["short_description: missing"]


# ----------------------------------------------------------------------------- echoes


@pytest.mark.parametrize(
    "correlation",
    [
        {"correlation_display": "Fireline"},
        {"correlation_display": {"value": "fireline", "display_value": "fireline"}},
        {"correlation_id": "fireline:6f1c0e4b9d2a47b1a8e35c07d94f2b16"},
    ],
)
def test_a_ticket_fireline_opened_maps_to_no_incident(correlation: dict[str, Any]) -> None:
    delivery = deliver("servicenow", record(**correlation))

    assert delivery.incidents == []
    assert delivery.notes == ["ignored INC0010023: a ticket Fireline opened for its own incident"]
    assert delivery.delivery_id == f"{SYS_ID}:0"


def test_the_fixture_of_a_fireline_ticket_maps_to_no_incident() -> None:
    delivery = deliver("servicenow", record("incident-opened-by-fireline.json"))

    assert (delivery.incidents, delivery.changed_by) == ([], "fireline.integration")


@pytest.mark.parametrize(
    "correlation",
    [
        {"correlation_id": "CHG0030001", "correlation_display": "Splunk"},
        {"correlation_id": "x-fireline:1", "correlation_display": "Fireline bridge"},
    ],
)
def test_another_tool_correlation_is_an_incident(correlation: dict[str, Any]) -> None:
    assert len(deliver("servicenow", record(**correlation)).incidents) == 1
