import pytest

from dsl.durations import parse_duration
from dsl.providers import PROVIDERS, provider_type


def test_catalog_knows_which_providers_need_a_connection():
    needs = {name: entry.needs_config for name, entry in PROVIDERS.items()}
    assert needs == {
        "jira": True,
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
