"""Every compile error points at file:line:col with a message naming the problem."""

from pathlib import Path

import pytest

from dsl.compiler import compile_file, compile_text, load_directory
from tests.dsl.helpers import FILE, compile_yaml, errors_of, located, only_error


def test_diagnostic_str_is_file_line_col_message():
    result = compile_yaml("workflow: [\n")
    assert str(result.diagnostics[0]).startswith(f"{FILE}:2:1: YAML syntax error")


def test_yaml_syntax_error_uses_the_mark_of_the_error():
    text = """
    workflow:
      id: x
      triggers: [{type: manual}
      steps: []
    """
    assert only_error(text).startswith("4:3: YAML syntax error")


def test_empty_file_and_non_mapping():
    assert only_error("") == "1:1: expected a 'workflow:' mapping, got an empty file"
    assert only_error("- a\n") == "1:1: expected a 'workflow:' mapping, got a list"


def test_unreadable_file(tmp_path: Path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    result = compile_file(path)
    assert result.plan is None
    assert result.diagnostics[0].message.startswith("cannot read file")


def test_every_pydantic_error_is_reported_with_its_field_path():
    text = """
    workflow:
      id: Bad_ID
      triggers:
        - type: incident
          events: [created, deleted]
      steps:
        - name: a
          provider: {type: notify, with: {message: hi}}
          retry: {maximum_attempts: 0, max_attempts: 3}
          timeout: soon
          on_failure: ignore
    """
    assert errors_of(text) == [
        "2:7: id: String should match pattern '^[a-z0-9][a-z0-9_-]*$'",
        "5:25: triggers[0].events[1]: Input should be 'created', 'updated', "
        "'status_changed', 'severity_changed', 'resolved' or 'reopened'",
        "9:33: steps[0].retry.maximum_attempts: Input should be greater than or equal to 1",
        "9:36: steps[0].retry: unknown field 'max_attempts' "
        "(allowed: backoff, initial_interval, maximum_attempts, maximum_interval)",
        "10:16: steps[0].timeout: invalid duration 'soon': use a number of seconds or a "
        "duration such as 500ms, 30s, 2m, 1h, 1d",
        "11:19: steps[0].on_failure: Input should be 'fail' or 'continue'",
    ]


def test_missing_fields_point_at_the_parent_key():
    text = """
    workflow:
      triggers: [{type: manual}]
      steps:
        - name: a
          provider:
            with: {message: hi}
    """
    assert errors_of(text) == [
        "1:1: workflow: missing required field 'id'",
        "5:7: steps[0].provider: missing required field 'type'",
    ]


def test_unknown_top_level_field_lists_the_allowed_ones():
    text = """
    workflow:
      id: x
      trigger: [{type: manual}]
      triggers: [{type: manual}]
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    message = only_error(text)
    assert message.startswith("3:3: workflow: unknown field 'trigger' (allowed: actions, consts,")
    assert "triggers" in message


def test_alert_trigger_has_a_clear_error_at_its_type():
    text = """
    workflow:
      id: x
      triggers:
        - type: alert
          filters: [{key: source, value: grafana}]
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert only_error(text) == (
        "4:13: triggers[0]: alert triggers are not supported; use type: incident"
    )


def test_unknown_and_missing_trigger_type():
    text = """
    workflow:
      id: x
      triggers:
        - type: webhook
        - events: [created]
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert errors_of(text) == [
        "4:13: triggers[0]: unknown type 'webhook' (expected 'incident', 'manual', 'interval')",
        "5:7: triggers[1]: missing required field 'type'",
    ]


def test_at_least_one_trigger_is_required():
    text = """
    workflow:
      id: x
      triggers: []
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert only_error(text) == (
        "3:13: triggers: List should have at least 1 item after validation, not 0"
    )


def test_at_least_one_step_or_action_is_required():
    text = """
    workflow:
      id: x
      triggers: [{type: manual}]
      steps: []
    """
    assert only_error(text) == "2:3: workflow: needs at least one step or action"


def test_interval_needs_exactly_one_period():
    text = """
    workflow:
      id: x
      triggers:
        - {type: interval, value: 60, every: 1m}
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert only_error(text) == (
        "4:7: triggers[0]: an interval trigger needs exactly one of 'every' or 'value'"
    )


def test_invalid_filter_regex():
    text = """
    workflow:
      id: x
      triggers:
        - type: incident
          filters:
            - {key: service, value: "pay(ment"}
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert only_error(text) == (
        "6:33: triggers[0].filters[0].value: invalid regular expression 'pay(ment': "
        "missing ), unterminated subpattern at position 3"
    )


def test_manual_input_default_must_match_its_type():
    text = """
    workflow:
      id: x
      triggers:
        - type: manual
          inputs: [{name: count, type: number, default: many}]
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert only_error(text) == (
        "5:16: triggers[0].inputs[0]: default of input 'count' must be a number"
    )


def test_if_and_condition_together_is_an_error():
    text = """
    workflow:
      id: x
      triggers: [{type: manual}]
      steps:
        - name: a
          if: "{{ true }}"
          condition: "{{ true }}"
          provider: {type: notify, with: {message: hi}}
    """
    assert only_error(text) == (
        "5:7: steps[0]: give either 'if' or 'condition' (Keep's name), not both"
    )


def test_error_inside_keep_enrich_incident_points_at_where_it_is_written():
    text = """
    workflow:
      id: x
      triggers: [{type: manual}]
      steps:
        - name: a
          provider:
            type: notify
            with:
              message: hi
              enrich_incident:
                - {key: ticket, valeu: "{{ results.id }}"}
    """
    assert errors_of(text) == [
        "11:15: steps[0].enrich_incident[0]: missing required field 'value'",
        "11:29: steps[0].enrich_incident[0]: unknown field 'valeu' (allowed: key, value)",
    ]


# --- providers ----------------------------------------------------------------------

PROVIDER_TEMPLATE = """
workflow:
  id: x
  triggers: [{type: manual}]
  steps:
    - name: ticket
      provider:
        type: %s
"""


def test_unknown_provider_lists_the_known_ones():
    assert only_error(PROVIDER_TEMPLATE % "jiraa") == (
        "7:15: step 'ticket': unknown provider type 'jiraa' "
        "(known: db, enrich, http, jira, notify, servicenow, slack)"
    )


def test_unknown_parameter_lists_the_provider_parameters():
    text = (
        PROVIDER_TEMPLATE % "notify"
        + "        with:\n          message: hi\n          mesage: hi\n"
    )
    assert only_error(text) == (
        "10:11: step 'ticket': unknown parameter 'mesage' for provider 'notify'; "
        "did you mean 'message'? (known: links, message, severity, title)"
    )


def test_missing_required_parameter():
    text = PROVIDER_TEMPLATE % "notify" + "        with: {title: hi}\n"
    assert only_error(text) == "8:9: step 'ticket': provider 'notify' needs parameter 'message'"


def test_jira_create_needs_project_and_summary_and_config():
    text = PROVIDER_TEMPLATE % "jira" + "        with: {issue_type: Bug}\n"
    assert errors_of(text) == [
        "6:7: step 'ticket': provider 'jira' needs config: "
        '"{{ providers.NAME }}" naming a connection',
        "8:9: step 'ticket': jira needs 'project_key' (or Keep's 'board_name') to create "
        "an issue; give 'issue_id' to update one instead",
        "8:9: step 'ticket': jira needs 'summary' to create an issue; "
        "give 'issue_id' to update one instead",
    ]


def test_jira_update_with_issue_id_needs_no_summary():
    text = (
        PROVIDER_TEMPLATE % "jira"
        + '        config: "{{ providers.jira }}"\n'
        + "        with: {issue_id: OPS-1, transition_to: Done, comment: closed}\n"
    )
    assert compile_yaml(text).plan is not None


def test_jira_board_name_and_project_key_together_is_an_error():
    text = (
        PROVIDER_TEMPLATE % "jira"
        + '        config: "{{ providers.jira }}"\n'
        + "        with: {project_key: A, board_name: B, summary: s}\n"
    )
    assert only_error(text) == ("9:44: step 'ticket': give 'project_key' or 'board_name', not both")


def test_config_must_name_a_connection_exactly():
    text = PROVIDER_TEMPLATE % "slack" + "        config: jira\n        with: {message: hi}\n"
    assert only_error(text) == (
        "8:17: step 'ticket': config must be exactly \"{{ providers.NAME }}\", got 'jira'"
    )


def test_config_is_refused_where_the_provider_takes_none():
    text = (
        PROVIDER_TEMPLATE % "notify"
        + '        config: "{{ providers.x }}"\n        with: {message: hi}\n'
    )
    assert only_error(text) == "8:17: step 'ticket': provider 'notify' takes no config"


def test_parameter_shapes_and_choices():
    text = (
        PROVIDER_TEMPLATE % "http"
        + "        with: {url: 'https://x', method: FETCH, headers: [a]}\n"
    )
    assert errors_of(text) == [
        "8:42: step 'ticket': parameter 'method' must be one of "
        "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
        "8:58: step 'ticket': parameter 'headers' must be a mapping",
    ]


def test_yaml_dates_cannot_travel_in_a_plan():
    text = PROVIDER_TEMPLATE % "notify" + "        with: {message: hi, title: 2024-01-01}\n"
    assert only_error(text) == (
        "8:36: YAML reads this value as a date; quote it to keep it as text"
    )


# --- templates ----------------------------------------------------------------------


def test_template_syntax_error_names_the_step_and_field():
    text = """
    workflow:
      id: x
      triggers: [{type: manual}]
      steps:
        - name: tell
          provider:
            type: notify
            with: {message: "Ticket {{ incident.id }"}
    """
    assert only_error(text) == (
        "8:26: step 'tell': template syntax error in provider.with.message: unexpected '}'"
    )


def test_template_syntax_error_inside_a_block_scalar_points_at_its_line():
    text = """
    workflow:
      id: x
      triggers: [{type: manual}]
      steps:
        - name: tell
          provider:
            type: notify
            with:
              message: |
                first line
                second {{ incident.id }
                third
    """
    error = only_error(text)
    assert error == (
        "11:13: step 'tell': template syntax error in provider.with.message: unexpected '}'"
    )


def test_template_syntax_is_checked_everywhere():
    text = """
    workflow:
      id: x
      triggers:
        - type: incident
          if: "{{ incident.a ==  }}"
      steps:
        - name: tell
          foreach: "{% for %}"
          provider: {type: notify, with: {message: hi}}
    """
    errors = errors_of(text)
    assert errors[0].startswith("5:12: template syntax error in triggers[0].if:")
    assert errors[1].startswith("8:17: step 'tell': template syntax error in foreach:")


def test_unknown_filter_is_a_syntax_error():
    text = """
    workflow:
      id: x
      triggers: [{type: manual}]
      steps:
        - name: tell
          provider: {type: notify, with: {message: "{{ incident.id | shout }}"}}
    """
    assert only_error(text) == (
        "6:49: step 'tell': template syntax error in provider.with.message: no filter named 'shout'"
    )


@pytest.mark.parametrize(
    ("expression", "refusal"),
    [
        (
            "['a', 'b'] | random",
            "template syntax error in provider.with.message: no filter named 'random'",
        ),
        ("lipsum(1)", "unknown name 'lipsum' in template"),
    ],
)
def test_a_template_that_would_differ_on_replay_is_refused(expression: str, refusal: str):
    text = f"""
    workflow:
      id: x
      triggers: [{{type: manual}}]
      steps:
        - name: tell
          provider: {{type: notify, with: {{message: "{{{{ {expression} }}}}"}}}}
    """
    assert only_error(text).startswith(f"6:49: step 'tell': {refusal}")


STEPS_REFERENCING = """
workflow:
  id: x
  triggers: [{type: incident}]
  steps:
    - name: notify
      provider:
        type: notify
        with:
          message: "{{ steps.create-ticket.results.issue.key }}"
    - name: create-ticket
      provider: {type: notify, with: {message: "{{ steps.%s.status }}"}}
"""


def test_reference_to_a_later_step():
    assert errors_of(STEPS_REFERENCING % "notify") == [
        "9:21: step 'notify' references step 'create-ticket', which runs after it"
    ]


def test_reference_to_an_unknown_step():
    errors = errors_of(STEPS_REFERENCING % "nope")
    assert errors[-1] == (
        "11:49: step 'create-ticket': unknown step 'nope' (known: notify, create-ticket)"
    )


def test_reference_to_itself():
    errors = errors_of(STEPS_REFERENCING % "create-ticket")
    assert errors[-1] == (
        "11:49: step 'create-ticket' references itself; use 'results' in its enrich_incident"
    )


def test_step_cannot_reference_an_action():
    text = """
    workflow:
      id: x
      triggers: [{type: incident}]
      steps:
        - name: s
          provider: {type: notify, with: {message: "{{ steps.a.results }}"}}
      actions:
        - name: a
          provider: {type: notify, with: {message: hi}}
    """
    assert only_error(text) == "6:49: step 's' references action 'a', which runs after it"


def test_results_only_in_the_steps_own_enrich_incident():
    text = """
    workflow:
      id: x
      triggers: [{type: incident}]
      steps:
        - name: s
          if: "{{ results.ok }}"
          provider: {type: notify, with: {message: "{{ results.key }}"}}
          enrich_incident: [{key: k, value: "{{ results.key }}"}]
    """
    message = "step 's': 'results' is only available in the step's own enrich_incident"
    assert errors_of(text) == [f"6:12: {message}", f"7:49: {message}"]


def test_unknown_name_in_a_template():
    text = """
    workflow:
      id: x
      triggers: [{type: incident}]
      steps:
        - name: s
          provider: {type: notify, with: {message: "{{ alrt.name }}"}}
    """
    assert only_error(text) == (
        "6:49: step 's': unknown name 'alrt' in template "
        "(allowed: consts, fireline, incident, inputs, steps, has(), now())"
    )


def test_providers_only_as_config_and_foreach_only_in_foreach_steps():
    text = """
    workflow:
      id: x
      triggers: [{type: incident}]
      steps:
        - name: s
          provider: {type: notify, with: {message: "{{ providers.jira }} {{ foreach }}"}}
    """
    assert errors_of(text) == [
        "6:49: step 's': 'providers' may only be used as config: \"{{ providers.NAME }}\"",
        "6:49: step 's': 'foreach' is only defined in provider.with of a step with foreach",
    ]


def test_trigger_condition_cannot_use_run_names():
    text = """
    workflow:
      id: x
      triggers:
        - type: incident
          if: "{{ steps.a.results and inputs.x }}"
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert errors_of(text) == [
        "5:12: 'steps' is not available in a trigger condition",
        "5:12: 'inputs' is not available in a trigger condition",
    ]


def test_reference_errors_inside_block_scalars_point_at_their_line():
    text = """
    workflow:
      id: x
      triggers: [{type: incident}]
      steps:
        - name: s
          provider:
            type: notify
            with:
              message: |
                Incident {{ incident.id }}
                Owner {{ owner }}
    """
    assert only_error(text).startswith("11:13: step 's': unknown name 'owner'")


def test_foreach_must_be_a_single_expression():
    text = """
    workflow:
      id: x
      triggers: [{type: incident}]
      steps:
        - name: s
          foreach: "tags: {{ incident.tags }}"
          provider: {type: notify, with: {message: "{{ foreach }}"}}
    """
    assert only_error(text) == (
        "6:16: step 's': foreach must be a single {{ expression }} that gives a list"
    )


def test_duplicate_step_names_across_steps_and_actions():
    text = """
    workflow:
      id: x
      triggers: [{type: incident}]
      steps:
        - name: tell
          provider: {type: notify, with: {message: hi}}
      actions:
        - name: tell
          provider: {type: notify, with: {message: hi}}
    """
    assert only_error(text) == (
        "8:13: duplicate name 'tell': already used by an earlier step; "
        "names must be unique across steps and actions"
    )


# --- warnings -----------------------------------------------------------------------


def test_warnings_do_not_stop_compilation():
    text = """
    workflow:
      id: x
      triggers: [{type: incident}]
      steps:
        - name: s
          if: "'{{ incident.severity }}' == 'SEV1'"
          provider: {type: notify, with: {message: hi}}
        - name: t
          if: incident.severity == 'SEV1'
          provider: {type: notify, with: {message: hi}, type: notify}
    """
    result = compile_yaml(text)
    assert result.plan is not None
    assert [d.severity for d in result.diagnostics] == ["warning"] * 3
    lines = located(result)
    assert lines[0].startswith("6:11: warning: step 's': condition")
    assert "mixes text and {{ }}" in lines[0]
    assert lines[1].startswith("9:11: warning: step 't': condition")
    assert "always true" in lines[1]
    assert lines[2] == "10:53: warning: duplicate key 'type': the later value wins"


# --- across files -------------------------------------------------------------------

SMALL = """
workflow:
  id: %s
  triggers: [{type: manual}]
  steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
"""


def test_duplicate_workflow_id_is_an_error_on_the_second_file(tmp_path: Path):
    (tmp_path / "a.yaml").write_text((SMALL % "same").lstrip())
    (tmp_path / "b.yaml").write_text((SMALL % "same").lstrip())
    first, second = load_directory(tmp_path)
    assert first.plan is not None
    assert second.plan is None
    (error,) = second.diagnostics
    assert (error.line, error.col) == (2, 7)
    first_file = tmp_path / "a.yaml"
    assert error.message == f"duplicate workflow id 'same': already defined in {first_file}"


def test_diagnostics_carry_the_given_file_name():
    result = compile_text("workflow:\n  id: X\n", "dir/x.yaml")
    assert {d.file for d in result.diagnostics} == {"dir/x.yaml"}


def test_wrong_shapes_say_what_was_expected_and_found():
    text = """
    workflow:
      id: x
      triggers: 5
      steps: [hello]
    """
    assert errors_of(text) == [
        "3:13: triggers: expected a list, got number 5",
        "4:11: steps[0]: expected a mapping, got text 'hello'",
    ]


def test_empty_workflow_key():
    assert only_error("workflow:\n") == "1:10: workflow: expected a mapping, got nothing"


def test_recursive_alias_is_refused():
    assert only_error("workflow: &w\n  id: a\n  self: *w\n") == (
        "1:11: YAML error: an alias refers to itself"
    )
