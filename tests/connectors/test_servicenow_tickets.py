"""ServiceNow incidents with the real `pysnow` client against FakeServiceNow: one ticket per
step, notes and resolves once, reads by number or sys_id."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from connectors.errors import ConnectorError
from connectors.servicenow import ServiceNowConnector, correlation_id
from connectors.servicenow_errors import ServiceNowDataPolicyError, ServiceNowNotFoundError
from tests.fakes.servicenow_server import FakeServiceNow

FIELDS = {"short_description": "Checkout 5xx", "description": "Error rate 12%", "urgency": "1"}


def test_create_returns_the_ticket_with_a_link_to_its_form(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    ticket = servicenow.create_incident(FIELDS, idempotency_key="wf-1/open-ticket")

    stored = fake_servicenow.incident("INC0010001")
    assert ticket.as_result() == {
        "ticket_id": "INC0010001",
        "sys_id": stored["sys_id"],
        "ticket_url": f"{fake_servicenow.url}/incident.do?sys_id={stored['sys_id']}",
        "state": "1",
    }
    assert stored["short_description"] == "Checkout 5xx"
    assert stored["urgency"] == "1"
    assert stored["correlation_id"] == correlation_id("wf-1/open-ticket")
    assert stored["correlation_id"].startswith("fireline:")
    assert stored["correlation_display"] == "Fireline"


def test_a_create_whose_answer_was_lost_is_retried_into_the_same_ticket(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    fake_servicenow.fail_next_write_after_commit("POST")

    with pytest.raises(ConnectorError) as lost:
        servicenow.create_incident(FIELDS, idempotency_key="wf-1/open-ticket")
    retried = servicenow.create_incident(FIELDS, idempotency_key="wf-1/open-ticket")

    assert lost.value.retryable
    assert len(fake_servicenow.incidents) == 1
    assert retried.number == "INC0010001"


def test_another_step_opens_its_own_ticket(servicenow: ServiceNowConnector) -> None:
    first = servicenow.create_incident(FIELDS, idempotency_key="wf-1/open-ticket")
    second = servicenow.create_incident(FIELDS, idempotency_key="wf-2/open-ticket")

    assert (first.number, second.number) == ("INC0010001", "INC0010002")


def test_concurrent_creates_share_nothing_between_requests(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    keys = [f"wf-{n}/open-ticket" for n in range(8)]
    with ThreadPoolExecutor(4) as pool:
        tickets = list(
            pool.map(lambda k: servicenow.create_incident(FIELDS, idempotency_key=k), keys)
        )

    assert len({t.sys_id for t in tickets}) == 8
    assert {t.correlation_id for t in tickets} == {correlation_id(k) for k in keys}
    creates = [r for r in fake_servicenow.requests if r.method == "POST"]
    # A lookup's query must never leak into a create (pysnow #195): the answer holds sys_id.
    assert all("sysparm_fields" not in r.query for r in creates)


def test_a_record_that_does_not_carry_the_id_is_not_taken_for_ours(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    someone_elses = fake_servicenow.add_incident(short_description="Printer on fire")
    fake_servicenow.hidden_fields.add("correlation_id")  # the instance drops the term

    ticket = servicenow.create_incident(FIELDS, idempotency_key="wf-1/open-ticket")

    assert ticket.sys_id != someone_elses["sys_id"]
    assert (
        fake_servicenow.incident(someone_elses["number"])["short_description"] == "Printer on fire"
    )
    assert len(fake_servicenow.incidents) == 2


def test_find_by_correlation(servicenow: ServiceNowConnector) -> None:
    created = servicenow.create_incident(FIELDS, idempotency_key="wf-1/open-ticket")

    assert servicenow.find_by_correlation(correlation_id("wf-1/open-ticket")) == created
    assert servicenow.find_by_correlation(correlation_id("wf-9/other")) is None


def test_get_by_number_and_by_sys_id(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    seeded = fake_servicenow.add_incident(short_description="Disk full on db-3")

    by_number = servicenow.get(seeded["number"])
    by_sys_id = servicenow.get(seeded["sys_id"])

    assert by_number.sys_id == by_sys_id.sys_id == seeded["sys_id"]
    assert by_sys_id.record is not None
    assert by_sys_id.record["short_description"] == "Disk full on db-3"


@pytest.mark.parametrize("ref", ["INC0099999", "0123456789abcdef0123456789abcdef"])
def test_an_unknown_ticket_is_not_found(servicenow: ServiceNowConnector, ref: str) -> None:
    with pytest.raises(ServiceNowNotFoundError) as err:
        servicenow.get(ref)

    assert not err.value.retryable


def test_a_reference_that_could_inject_query_terms_is_refused(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    with pytest.raises(ConnectorError, match="neither an incident number"):
        servicenow.get("INC1^ORnumberISNOTEMPTY")

    assert fake_servicenow.requests == []


def test_update_patches_only_the_given_fields(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    ticket = servicenow.create_incident(FIELDS, idempotency_key="wf-1/open-ticket")

    updated = servicenow.update(ticket.number, {"state": "2", "assignment_group": "SRE"})

    assert updated.state == "2"
    stored = fake_servicenow.incident(ticket.number)
    assert (stored["assignment_group"], stored["short_description"]) == ("SRE", "Checkout 5xx")
    assert [r.method for r in fake_servicenow.requests][-1] == "PATCH"
    assert not any(r.method == "PUT" for r in fake_servicenow.requests)


def test_fields_fireline_owns_cannot_be_set(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    with pytest.raises(ConnectorError, match="must not set correlation_id"):
        servicenow.create_incident(
            {**FIELDS, "correlation_id": "mine"}, idempotency_key="wf-1/open-ticket"
        )

    assert fake_servicenow.incidents == {}


def test_a_retried_work_note_lands_once(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    ticket = servicenow.create_incident(FIELDS, idempotency_key="wf-1/open-ticket")
    fake_servicenow.fail_next_write_after_commit("PATCH")

    with pytest.raises(ConnectorError):
        servicenow.add_note(ticket.number, "Restarted nginx", idempotency_key="wf-1/note")
    servicenow.add_note(ticket.number, "Restarted nginx", idempotency_key="wf-1/note")
    servicenow.add_note(ticket.number, "Customer told", idempotency_key="wf-1/c", kind="comments")

    notes = fake_servicenow.notes(ticket.sys_id)
    assert notes == [f"Restarted nginx\n[{correlation_id('wf-1/note')}]"]
    assert fake_servicenow.notes(ticket.sys_id, "comments")[0].startswith("Customer told")


def test_notes_are_posted_when_the_journal_cannot_be_read(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    ticket = servicenow.create_incident(FIELDS, idempotency_key="wf-1/open-ticket")
    fake_servicenow.fail_next(403, method="GET", path_contains="sys_journal_field")

    servicenow.add_note(ticket.number, "Restarted nginx", idempotency_key="wf-1/note")

    assert len(fake_servicenow.notes(ticket.sys_id)) == 1


def test_resolve_sets_state_6_with_the_close_fields_once(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    ticket = servicenow.create_incident(FIELDS, idempotency_key="wf-1/open-ticket")
    fake_servicenow.fail_next_write_after_commit("PATCH")

    with pytest.raises(ConnectorError):
        servicenow.resolve(ticket.number, close_code="Solved (Permanently)", close_notes="Fixed")
    resolved = servicenow.resolve(ticket.number, close_code="Other", close_notes="again")

    stored = fake_servicenow.incident(ticket.number)
    assert resolved.state == stored["state"] == "6"
    assert (stored["close_code"], stored["close_notes"]) == ("Solved (Permanently)", "Fixed")
    assert stored["sys_mod_count"] == "1"


def test_a_data_policy_refusal_names_the_missing_fields(servicenow: ServiceNowConnector) -> None:
    with FakeServiceNow(mandatory_on_resolve=["assignment_group"]) as strict:
        connector = ServiceNowConnector(
            servicenow._connection.model_copy(update={"url": strict.url})
        )
        ticket = connector.create_incident(FIELDS, idempotency_key="wf-1/open-ticket")

        with pytest.raises(ServiceNowDataPolicyError) as refused:
            connector.resolve(ticket.number, close_code="Solved", close_notes="Fixed")

        assert refused.value.fields == ["assignment_group"]
        assert not refused.value.retryable
        assert "requires assignment_group" in str(refused.value)
        assert strict.incident(ticket.number)["state"] == "1"
        connector.resolve(
            ticket.number, close_code="Solved", close_notes="ok", fields={"assignment_group": "SRE"}
        )
        assert strict.incident(ticket.number)["state"] == "6"


def test_list_pages_with_offset_oldest_first(
    fake_servicenow: FakeServiceNow, servicenow: ServiceNowConnector
) -> None:
    for n in range(5):
        fake_servicenow.add_incident(short_description=f"alert {n}", state="2" if n % 2 else "1")

    first = servicenow.list_incidents("state=1", offset=0, limit=2)
    second = servicenow.list_incidents("state=1", offset=2, limit=2)

    assert [r["short_description"] for r in first + second] == ["alert 0", "alert 2", "alert 4"]
