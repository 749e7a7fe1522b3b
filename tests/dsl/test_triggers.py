from datetime import UTC, datetime

import pytest

from dsl.plan import WorkflowPlan
from dsl.triggers import incident_trigger_matches, interval_seconds, validate_manual_inputs
from tests.dsl.helpers import compile_yaml

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def plan_with_triggers(triggers: str, extra: str = "") -> WorkflowPlan:
    text = f"""
workflow:
  id: t
{extra}  triggers:
{triggers}
  steps: [{{name: a, provider: {{type: notify, with: {{message: hi}}}}}}]
"""
    result = compile_yaml(text)
    assert result.plan is not None, [str(d) for d in result.diagnostics]
    return result.plan


SEV1_ON_CREATE = plan_with_triggers(
    """    - type: incident
      events: [created, severity_changed]
      filters: [{key: severity, value: SEV1}]"""
)


def matches(plan: WorkflowPlan, incident: dict, event: str = "created") -> bool:
    return incident_trigger_matches(plan, event, incident, NOW)


def test_matches_event_and_filter():
    assert matches(SEV1_ON_CREATE, {"severity": "SEV1"})
    assert matches(SEV1_ON_CREATE, {"severity": "SEV1"}, "severity_changed")
    assert not matches(SEV1_ON_CREATE, {"severity": "SEV1"}, "resolved")


def test_filter_regex_must_match_the_whole_value():
    assert not matches(SEV1_ON_CREATE, {"severity": "SEV10"})
    assert not matches(SEV1_ON_CREATE, {"severity": "xSEV1"})


def test_missing_or_null_field_does_not_match():
    assert not matches(SEV1_ON_CREATE, {})
    assert not matches(SEV1_ON_CREATE, {"severity": None})
    catch_all = plan_with_triggers(
        "    - {type: incident, filters: [{key: target_project, value: '.*'}]}"
    )
    assert not matches(catch_all, {"title": "x"})
    assert matches(catch_all, {"target_project": ""})


def test_filter_keys_are_dotted_paths_falling_back_to_enrichments():
    plan = plan_with_triggers(
        """    - type: incident
      filters:
        - {key: metadata.service, value: "pay.*"}
        - {key: target_project, value: OPS}"""
    )
    incident = {"metadata": {"service": "payments"}, "enrichments": {"target_project": "OPS"}}
    assert matches(plan, incident)
    assert not matches(plan, {**incident, "metadata": {"service": "search"}})
    assert not matches(plan, {"metadata": {"service": "payments"}})


def test_filter_on_a_list_matches_any_item_and_scalars_use_their_yaml_text():
    plan = plan_with_triggers(
        """    - type: incident
      filters:
        - {key: tags, value: prod}
        - {key: urgent, value: true}
        - {key: count, value: 3}"""
    )
    assert matches(plan, {"tags": ["db", "prod"], "urgent": True, "count": 3})
    assert not matches(plan, {"tags": ["db"], "urgent": True, "count": 3})
    assert not matches(plan, {"tags": ["prod"], "urgent": False, "count": 3})


def test_condition_decides_and_can_read_consts_and_now():
    plan = plan_with_triggers(
        """    - type: incident
      if: "{{ incident.severity in consts.paging and now().year == 2024 }}\"""",
        extra="  consts: {paging: [SEV1, SEV2]}\n",
    )
    assert matches(plan, {"severity": "SEV2"})
    assert not matches(plan, {"severity": "SEV3"})


def test_condition_that_errors_does_not_match_and_does_not_raise():
    plan = plan_with_triggers(
        """    - type: incident
      if: "{{ incident.labels.team == 'sre' }}\""""
    )
    assert not matches(plan, {"severity": "SEV1"})
    assert matches(plan, {"labels": {"team": "sre"}})


def test_any_incident_trigger_may_fire():
    plan = plan_with_triggers(
        """    - {type: incident, events: [resolved]}
    - {type: incident, filters: [{key: severity, value: SEV1}]}
    - {type: manual}"""
    )
    assert matches(plan, {"severity": "SEV4"}, "resolved")
    assert matches(plan, {"severity": "SEV1"})
    assert not matches(plan, {"severity": "SEV4"})


def test_disabled_plans_never_fire():
    plan = plan_with_triggers("    - type: incident", extra="  disabled: true\n")
    assert not matches(plan, {"severity": "SEV1"})


def test_manual_only_plan_does_not_match_incident_events():
    assert not matches(plan_with_triggers("    - type: manual"), {"severity": "SEV1"})


MANUAL = plan_with_triggers(
    """    - type: manual
      inputs:
        - {name: project, type: string, required: true}
        - {name: count, type: number, default: 1}
        - {name: dry_run, type: boolean, default: false}
        - {name: labels, type: list, default: [a]}
        - {name: extra, type: object}"""
)


def test_manual_inputs_get_defaults():
    inputs, errors = validate_manual_inputs(MANUAL, {"project": "OPS"})
    assert errors == []
    assert inputs == {"project": "OPS", "count": 1, "dry_run": False, "labels": ["a"]}


def test_manual_input_defaults_are_copies():
    inputs, _ = validate_manual_inputs(MANUAL, {"project": "OPS"})
    inputs["labels"].append("b")
    again, _ = validate_manual_inputs(MANUAL, {"project": "OPS"})
    assert again["labels"] == ["a"]


def test_manual_input_errors_name_each_bad_field():
    given = {"count": "three", "dry_run": 1, "extra": [], "colour": "red"}
    inputs, errors = validate_manual_inputs(MANUAL, given)
    assert errors == [
        "unknown input 'colour' (known: project, count, dry_run, labels, extra)",
        "missing required input 'project'",
        "input 'count' must be a number, got string",
        "input 'dry_run' must be a boolean, got number",
        "input 'extra' must be an object, got list",
    ]
    assert "colour" not in inputs


@pytest.mark.parametrize("value", [1, 2.5])
def test_numbers_are_numbers_but_booleans_are_not(value):
    assert validate_manual_inputs(MANUAL, {"project": "p", "count": value})[1] == []
    assert validate_manual_inputs(MANUAL, {"project": "p", "count": True})[1] != []


def test_interval_seconds():
    assert interval_seconds(plan_with_triggers("    - {type: interval, every: 5m}")) == 300.0
    both = plan_with_triggers(
        "    - {type: interval, value: 600}\n    - {type: interval, every: 1m}"
    )
    assert interval_seconds(both) == 60.0
    assert interval_seconds(MANUAL) is None
