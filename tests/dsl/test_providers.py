import pytest

from dsl.durations import parse_duration
from dsl.providers import PROVIDERS, provider_type


def test_catalog_knows_which_providers_need_a_connection():
    needs = {name: entry.needs_config for name, entry in PROVIDERS.items()}
    assert needs == {
        "jira": True,
        "servicenow": False,  # the providers file, or the org's connection store
        "notify": False,
        "slack": True,
        "http": False,
        "enrich": False,
        "db": False,  # names its connection in `connection`, not in `config`
    }


def test_normalized_parameters_rename_keep_aliases_and_fill_defaults():
    assert provider_type("jira").normalized({"board_name": "OPS", "summary": "s"}) == {
        "project_key": "OPS",
        "summary": "s",
    }
    assert provider_type("http").normalized({"url": "u"}) == {"url": "u", "method": "GET"}


def test_templated_values_pass_shape_checks():
    jira = provider_type("jira")
    assert jira.value_problems({"labels": "{{ incident.tags }}"}) == {}
    assert jira.value_problems({"labels": "a"}) == {"labels": "parameter 'labels' must be a list"}


def test_enrich_needs_a_mapping_of_enrichments():
    enrich = provider_type("enrich")
    assert enrich.missing_requirements({}) == ["provider 'enrich' needs parameter 'enrichments'"]
    assert enrich.value_problems({"enrichments": [1]}) == {
        "enrichments": "parameter 'enrichments' must be a mapping"
    }


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("30s", 30),
        ("2m", 120),
        ("1h", 3600),
        ("1d", 86400),
        ("1h30m", 5400),
        (45, 45),
        (1.5, 1.5),
        ("90", 90),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "m5", True, None, "1x"])
def test_invalid_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_jira_update_refuses_fields_only_a_create_can_set():
    jira = provider_type("jira")
    problems = jira.missing_requirements({"issue_id": "OPS-1", "priority": "High", "comment": "x"})
    assert problems == [
        "jira with issue_id updates an issue, which cannot set priority; "
        "those only apply when creating (without issue_id)"
    ]
    assert jira.missing_requirements({"issue_id": "OPS-1", "transition_to": "Done"}) == []


def test_servicenow_update_refuses_fields_only_a_create_can_set():
    servicenow = provider_type("servicenow")
    problems = servicenow.missing_requirements(
        {"ticket_id": "INC0010001", "short_description": "x", "work_note": "y"}
    )
    assert problems == [
        "servicenow with ticket_id updates an incident, which cannot set short_description; "
        "those only apply when creating (without ticket_id)"
    ]
    assert servicenow.missing_requirements({"ticket_id": "INC1", "state": "2"}) == []


def test_servicenow_create_refuses_what_only_an_update_does_and_needs_a_description():
    servicenow = provider_type("servicenow")
    assert servicenow.missing_requirements({"resolve": True}) == [
        "servicenow: 'resolve' only applies when updating an incident (with ticket_id)",
        "servicenow needs 'short_description' to create an incident; give 'ticket_id' to "
        "update one instead",
    ]
    # Keep writes the record's fields under `payload`.
    assert servicenow.missing_requirements({"payload": {"short_description": "x"}}) == []
    assert servicenow.normalized({"payload": {"short_description": "x"}}) == {
        "fields": {"short_description": "x"}
    }


def test_servicenow_resolve_needs_the_close_fields():
    servicenow = provider_type("servicenow")
    assert servicenow.missing_requirements({"ticket_id": "INC1", "resolve": True}) == [
        "servicenow: resolve needs close_code and close_notes (ServiceNow requires them)"
    ]


def test_servicenow_only_writes_incidents():
    servicenow = provider_type("servicenow")
    assert servicenow.value_problems({"table_name": "incident"}) == {}
    assert servicenow.value_problems({"table_name": "change_request"}) == {
        "table_name": "parameter 'table_name' must be one of INCIDENT"
    }
    assert "did you mean 'work_note'?" in servicenow.unknown_parameter_message("work_notes")
