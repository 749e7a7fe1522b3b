from pathlib import Path

from dsl.compiler import compile_file, compile_text, load_directory
from dsl.plan import WorkflowPlan
from tests.dsl.helpers import compile_yaml, located

DESIGN_EXAMPLE = """
workflow:
  id: jira-incident-integration        # unique; also the Temporal workflow type name
  name: Create Jira ticket for incident
  triggers:
    - type: incident                   # incident | alert | manual | interval
      events: [created]
      filters: [{key: target_project, value: ".*"}]
  steps:
    - name: create-jira-ticket
      if: "{{ has(incident.target_project) }}"
      provider:
        type: jira
        config: "{{ providers.jira }}"   # a named connection
        with: {project_key: "{{ incident.target_project }}", summary: "...", issue_type: Bug}
      enrich_incident:
        - {key: ticket_id, value: "{{ results.issue.key }}"}
        - {key: ticket_url, value: "{{ results.ticket_url }}"}
      retry: {maximum_attempts: 5, initial_interval: 2s, backoff: 2.0}
      timeout: 30s
    - name: notify-ticket-created
      provider: {type: notify, with: {message: "Ticket {{ steps.create-jira-ticket.results.issue.key }} created"}}
"""  # noqa: E501 - verbatim from DESIGN.md section 6

KEEP_STYLE = """
workflow:
  id: keep-jira
  description: Open a Jira ticket for critical incidents
  disabled: false
  owners: []
  services: []
  consts: {}
  triggers:
    - type: incident
      events: [created, updated]
  steps: []
  actions:
    - name: jira-action
      condition: "{{ incident.severity == 'SEV1' }}"
      provider:
        type: jira
        config: "{{ providers.default-jira }}"
        with:
          board_name: SRE
          issue_type: Task
          summary: "{{ incident.title }}"
          enrich_incident:
            - key: ticket_id
              value: results.issue.key
            - key: ticket_url
              value: "{{ results.ticket_url }}"
"""


def plan_of(text: str) -> WorkflowPlan:
    result = compile_yaml(text)
    assert result.diagnostics == [], located(result)
    assert result.plan is not None
    return result.plan


def test_design_example_compiles_to_the_expected_plan():
    plan = plan_of(DESIGN_EXAMPLE)
    assert plan.id == "jira-incident-integration"
    assert plan.name == "Create Jira ticket for incident"
    assert plan.source_file == "wf.yaml"
    trigger = plan.triggers[0]
    assert (trigger.type, trigger.events) == ("incident", ("created",))
    assert [(f.key, f.value) for f in trigger.filters] == [("target_project", ".*")]
    ticket, notify = plan.steps
    assert ticket.line == 9 and notify.line == 20
    assert ticket.condition == "{{ has(incident.target_project) }}"
    assert ticket.provider.connection == "jira"
    assert ticket.provider.params["project_key"] == "{{ incident.target_project }}"
    assert [e.key for e in ticket.enrich_incident] == ["ticket_id", "ticket_url"]
    assert ticket.retry.maximum_attempts == 5
    assert ticket.retry.initial_interval_seconds == 2.0
    assert ticket.timeout_seconds == 30.0
    assert notify.provider.type == "notify" and notify.provider.connection is None
    assert plan.plan_hash and len(plan.plan_hash) == 16


def test_keep_style_file_compiles():
    plan = plan_of(KEEP_STYLE)
    (action,) = plan.actions
    assert plan.steps == ()
    assert action.kind == "action"
    assert action.condition == "{{ incident.severity == 'SEV1' }}"
    assert action.provider.connection == "default-jira"
    assert "board_name" not in action.provider.params
    assert action.provider.params["project_key"] == "SRE"
    assert "enrich_incident" not in action.provider.params
    assert [(e.key, e.value) for e in action.enrich_incident] == [
        ("ticket_id", "{{ results.issue.key }}"),
        ("ticket_url", "{{ results.ticket_url }}"),
    ]


def test_unwrapped_document_is_accepted():
    unwrapped = """
    id: bare
    triggers: [{type: manual}]
    steps:
      - name: hello
        provider: {type: notify, with: {message: hi}}
    """
    plan = plan_of(unwrapped)
    assert plan.id == "bare" and plan.name == "bare"


def test_plan_round_trips_through_json():
    plan = plan_of(DESIGN_EXAMPLE)
    assert WorkflowPlan.model_validate_json(plan.model_dump_json()) == plan


def test_hash_ignores_whitespace_comments_and_lines():
    reformatted = DESIGN_EXAMPLE.replace("  steps:\n", "\n  # the steps\n\n  steps:\n").replace(
        "        with: {project_key", "        # connection above\n        with: {project_key"
    )
    original, changed = plan_of(DESIGN_EXAMPLE), plan_of(reformatted)
    assert changed.steps[0].line != original.steps[0].line
    assert changed.plan_hash == original.plan_hash


def test_hash_ignores_the_file_name():
    assert (
        compile_text(DESIGN_EXAMPLE, "a.yaml").plan.plan_hash
        == compile_text(DESIGN_EXAMPLE, "b/c.yaml").plan.plan_hash
    )


def test_hash_changes_when_a_step_changes():
    changed = DESIGN_EXAMPLE.replace("maximum_attempts: 5", "maximum_attempts: 6")
    assert plan_of(changed).plan_hash != plan_of(DESIGN_EXAMPLE).plan_hash


def test_defaults_and_durations():
    text = """
    workflow:
      id: defaults
      triggers:
        - type: interval
          every: 5m
        - type: interval
          value: 90
        - type: incident
      steps:
        - name: call
          provider: {type: http, with: {url: "https://example.com"}}
          retry: {initial_interval: 500ms, maximum_interval: 1h}
          timeout: 1h30m
          on_failure: continue
    """
    plan = plan_of(text)
    assert [t.every_seconds for t in plan.triggers[:2]] == [300.0, 90.0]
    assert plan.triggers[2].events == ("created",)
    (step,) = plan.steps
    assert step.provider.params == {"url": "https://example.com", "method": "GET"}
    assert step.retry.initial_interval_seconds == 0.5
    assert step.retry.maximum_interval_seconds == 3600.0
    assert step.timeout_seconds == 5400.0
    assert step.on_failure == "continue"


def test_manual_inputs_and_consts_reach_the_plan():
    text = """
    workflow:
      id: manual
      disabled: true
      consts: {team: sre, limits: [1, 2]}
      triggers:
        - type: manual
          inputs:
            - {name: project, type: string, required: true, description: Jira project}
            - {name: dry_run, type: boolean, default: false}
      steps:
        - name: tell
          provider: {type: notify, with: {message: "{{ inputs.project }} {{ consts.team }}"}}
    """
    plan = plan_of(text)
    assert plan.disabled is True
    assert plan.consts == {"team": "sre", "limits": [1, 2]}
    project, dry_run = plan.triggers[0].inputs
    assert (project.name, project.required, project.description) == (
        "project",
        True,
        "Jira project",
    )
    assert (dry_run.type, dry_run.default) == ("boolean", False)


def test_actions_may_reference_every_step_and_earlier_actions():
    text = """
    workflow:
      id: refs
      triggers: [{type: incident}]
      steps:
        - name: first
          provider: {type: notify, with: {message: one}}
      actions:
        - name: second
          provider: {type: notify, with: {message: "{{ steps.first.results }}"}}
        - name: third
          provider: {type: notify, with: {message: "{{ steps.second.status }}"}}
    """
    assert plan_of(text).actions[1].name == "third"


def test_foreach_step_may_use_foreach_in_its_parameters():
    text = """
    workflow:
      id: loop
      triggers: [{type: incident}]
      steps:
        - name: each-tag
          foreach: "{{ incident.tags }}"
          provider: {type: notify, with: {message: "tag {{ foreach }}"}}
    """
    assert plan_of(text).steps[0].foreach == "{{ incident.tags }}"


def test_trigger_condition_may_use_incident_and_consts():
    text = """
    workflow:
      id: cond
      consts: {sev: SEV1}
      triggers:
        - type: incident
          if: "{{ incident.severity == consts.sev }}"
      steps:
        - name: tell
          provider: {type: notify, with: {message: hi}}
    """
    assert plan_of(text).triggers[0].condition == "{{ incident.severity == consts.sev }}"


from tests.dsl.test_runbook_plan import RUNBOOK  # noqa: E402


def test_compile_file_and_load_directory(tmp_path: Path):
    (tmp_path / "b.yml").write_text(DESIGN_EXAMPLE.replace("jira-incident-integration", "bbb"))
    (tmp_path / "a.yaml").write_text(DESIGN_EXAMPLE)
    (tmp_path / "runbook.yaml").write_text(RUNBOOK)
    (tmp_path / "notes.txt").write_text("not yaml")
    results = load_directory(tmp_path)
    assert [Path(r.file).name for r in results] == ["a.yaml", "b.yml", "runbook.yaml"]
    assert [r.plan.id for r in results if r.plan] == ["jira-incident-integration", "bbb"]
    assert [r.runbook.id for r in results if r.runbook] == ["restart-app"]
    assert compile_file(tmp_path / "a.yaml").plan == results[0].plan
