from datetime import UTC, datetime

import pytest

from dsl.templates import (
    TemplateError,
    check_syntax,
    evaluate_condition,
    referenced_names,
    render_value,
    rewrite_hyphenated_references,
    single_expression,
)

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
CONTEXT = {
    "incident": {
        "id": "inc-1",
        "title": "Disk full",
        "tags": ["db", "prod"],
        "count": 3,
        "target_project": "OPS",
    },
    "steps": {"create-jira-ticket": {"results": {"issue": {"key": "OPS-7"}}}},
    "consts": {"team": "sre"},
    "now": NOW,
}


def render(value):
    return render_value(value, CONTEXT)


# --- native values versus text ---------------------------------------------------


def test_a_single_expression_gives_the_native_value():
    assert render("{{ incident.tags }}") == ["db", "prod"]
    assert render("  {{ incident.count }}\n") == 3
    assert render("{{- incident.count + 1 -}}") == 4


def test_text_around_an_expression_renders_to_text():
    assert render("count={{ incident.count }}") == "count=3"
    assert render("{{ incident.count }} and {{ incident.title }}") == "3 and Disk full"


def test_dicts_and_lists_are_rendered_recursively_and_other_values_pass_through():
    value = {"labels": "{{ incident.tags }}", "nested": [{"n": "{{ incident.count }}"}, 5, None]}
    assert render(value) == {"labels": ["db", "prod"], "nested": [{"n": 3}, 5, None]}


def test_strings_without_template_markers_are_returned_as_is():
    assert render("plain {text}") == "plain {text}"


def test_incident_data_is_never_rendered_again():
    context = {"incident": {"title": "{{ 7*7 }}"}}
    assert render_value("{{ incident.title }}", context) == "{{ 7*7 }}"
    assert render_value("Title: {{ incident.title }}", context) == "Title: {{ 7*7 }}"


# --- helpers and filters -----------------------------------------------------------


def test_hyphenated_step_names_can_be_referenced():
    assert render("{{ steps.create-jira-ticket.results.issue.key }}") == "OPS-7"
    assert render("Ticket {{ steps.create-jira-ticket.results.issue.key }}") == "Ticket OPS-7"


def test_hyphen_rewrite_leaves_string_literals_and_text_alone():
    source = "steps.a-b {{ steps.a-b ~ 'steps.c-d' }}{% if steps.e-f %}{% endif %}"
    assert rewrite_hyphenated_references(source) == (
        "steps.a-b {{ steps['a-b'] ~ 'steps.c-d' }}{% if steps['e-f'] %}{% endif %}"
    )


def test_has_is_false_for_missing_none_and_empty_text():
    context = {"incident": {"none": None, "empty": "", "zero": 0, "set": "x"}}
    assert render_value("{{ has(incident.missing) }}", context) is False
    assert render_value("{{ has(incident.missing.deeper) }}", context) is False
    assert render_value("{{ has(incident.none) }}", context) is False
    assert render_value("{{ has(incident.empty) }}", context) is False
    assert render_value("{{ has(incident.zero) }}", context) is True
    assert render_value("{{ has(incident.set) }}", context) is True


def test_default_filter_works_with_strict_undefined():
    assert render("{{ incident.missing | default('none') }}") == "none"
    assert render("{{ unknown_name | default(1) }}") == 1


def test_now_comes_from_the_context():
    assert render("{{ now() }}") == NOW
    assert render("{{ now().year }}") == 2024


def test_now_without_a_time_in_the_context_is_an_error():
    with pytest.raises(TemplateError, match="now"):
        render_value("{{ now() }}", {})


# --- errors --------------------------------------------------------------------------


def test_undefined_attribute_is_an_error_naming_it():
    with pytest.raises(TemplateError) as caught:
        render("{{ incident.target_projekt }}")
    assert caught.value.reason == "undefined: 'dict object' has no attribute 'target_projekt'"
    assert caught.value.template == "{{ incident.target_projekt }}"


def test_undefined_inside_text_is_an_error_too():
    with pytest.raises(TemplateError, match="has no attribute 'nope'"):
        render("Project: {{ incident.nope }}")


def test_undefined_chain_names_the_first_missing_attribute():
    with pytest.raises(TemplateError, match="has no attribute 'labels'"):
        render("{{ incident.labels.team }}")


def test_type_errors_become_template_errors():
    with pytest.raises(TemplateError, match="type error"):
        render("{{ incident.count + 'x' }}")


def test_the_sandbox_refuses_unsafe_access():
    with pytest.raises(TemplateError, match="not allowed"):
        render("{{ incident.__class__ }}")
    with pytest.raises(TemplateError, match="not allowed"):
        render("{{ incident.tags.append('x') }}")


def test_syntax_errors_at_render_time_are_template_errors():
    with pytest.raises(TemplateError, match="syntax error"):
        render("{{ incident.title ")


# --- conditions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ incident.count > 2 }}", True),
        ("{{ incident.count > 5 }}", False),
        ("{{ [] }}", False),
        ("{{ incident.tags }}", True),
        ("{{ 0 }}", False),
        ("{{ 'False' }}", False),
        ("{% if incident.count > 5 %}yes{% endif %}", False),
        ("{% if incident.count > 2 %}yes{% endif %}", True),
        ("false", False),
        (" No ", False),
        ("NULL", False),
        ("none", False),
        ("0", False),
        ("", False),
        ("true", True),
        ("anything", True),
    ],
)
def test_condition_truthiness(source, expected):
    assert evaluate_condition(source, CONTEXT) is expected


def test_condition_errors_raise():
    with pytest.raises(TemplateError):
        evaluate_condition("{{ incident.missing == 1 }}", CONTEXT)


# --- static analysis ----------------------------------------------------------------


def test_check_syntax():
    assert check_syntax("{{ incident.title }}") is None
    assert check_syntax("{{ incident.title ") is not None
    assert check_syntax("line\n{{ } }}") == "unexpected '}' (line 2)"


def test_check_syntax_catches_unknown_filters_even_inside_if_blocks():
    assert check_syntax("{{ x | nosuch }}") is not None
    assert check_syntax("{% if x %}{{ x | nosuch }}{% endif %}") == "no filter named 'nosuch'"


def test_referenced_names_lists_top_level_names_and_steps_with_lines():
    source = (
        "{% for tag in incident.tags %}{{ tag }}{{ loop.index }}{% endfor %}\n"
        "{{ steps.create-jira-ticket.results }} {{ steps['other'].x }} {{ results.key }}"
    )
    references = referenced_names(source)
    assert set(references.names) == {"incident", "steps", "results"}
    assert references.names["results"] == 2
    assert dict(references.steps) == {"create-jira-ticket": 2, "other": 2}
    assert references.dynamic_step_reference is False


def test_referenced_names_flags_dynamic_step_access():
    assert referenced_names("{{ steps[name] }}").dynamic_step_reference is True


def test_referenced_names_raises_on_syntax_errors():
    with pytest.raises(TemplateError):
        referenced_names("{{ a ")


def test_single_expression_detection():
    assert single_expression("{{ a }}") == " a "
    assert single_expression(" {{ '}}' }} ") == " '}}' "
    assert single_expression("{{ a }}{{ b }}") is None
    assert single_expression("x {{ a }}") is None
    assert single_expression("{% if a %}{{ a }}{% endif %}") is None
