"""The RunbookPlan: defaults, JSON round trip, content hash, loading next to workflows,
and `fireline lint` on runbooks."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from api.auth import Role
from dsl.compiler import compile_file, compile_text, load_directory
from dsl.plan import RetryPlan
from dsl.runbook_plan import (
    DEFAULT_APPROVAL,
    DEFAULT_OUTPUT_LIMIT,
    FIRELINE_ROLES,
    SEVERITIES,
    ExpectPlan,
    RunbookPlan,
)
from services.workflow_registry import WorkflowRegistry
from store.enums import Severity
from tests.conftest import REPO
from tests.dsl.helpers import located

FIRELINE = Path(sys.executable).parent / "fireline"

RUNBOOK = """\
runbook:
  id: restart-app
  target: {connection: "{{ incident.ci }}"}
  steps:
    - name: restart
      run: systemctl restart app
      rollback: systemctl start app
      timeout: 2m
"""

WORKFLOW = """\
workflow:
  id: %s
  triggers: [{type: manual}]
  steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
"""


def plan_of(text: str, filename: str = "rb.yaml") -> RunbookPlan:
    result = compile_text(textwrap.dedent(text).lstrip("\n"), filename)
    assert result.runbook is not None, located(result)
    return result.runbook


def test_the_dsl_role_and_severity_lists_match_the_api_and_the_store():
    assert tuple(role.value for role in Role) == FIRELINE_ROLES
    assert tuple(severity.value for severity in Severity) == SEVERITIES


def test_defaults_of_a_minimal_runbook():
    plan = plan_of(RUNBOOK)
    assert plan.name == "restart-app" and plan.description == ""
    assert plan.approval == DEFAULT_APPROVAL
    assert plan.approval.roles == ("ORG_ADMIN", "SRE_LEAD")
    assert plan.approval.on_timeout == "reject"
    assert plan.approval.escalation_timeout_seconds is None
    assert plan.prechecks == () and plan.postchecks == ()
    (step,) = plan.steps
    assert step.phase == "step" and step.line == 5
    assert step.retry == RetryPlan(maximum_attempts=1)
    assert not step.requires_approval and not step.idempotent
    assert step.expect == ExpectPlan(exit_codes=(0,))
    assert step.output_limit == DEFAULT_OUTPUT_LIMIT == 64 * 1024
    assert step.connector is None
    assert step.rollback is not None
    assert step.rollback.run == "systemctl start app"
    assert step.rollback.timeout_seconds == 120  # the step's, when the rollback has none
    assert step.rollback.retry == RetryPlan()
    assert step.rollback.line == 7


def test_every_field_reaches_the_plan():
    plan = plan_of(
        """
        runbook:
          id: full
          name: Full
          description: every field
          match: {keywords: [disk, disk, full], services: [db], severities: [sev1, SEV2]}
          target: {connection: "{{ inputs.host }}"}
          approval:
            roles: [SRE_LEAD]
            timeout: 5m
            on_timeout: escalate
            escalate_to: [ORG_ADMIN]
          inputs: [{name: host, type: string, required: true}]
          consts: {limit: 5}
          prechecks:
            - name: check
              run: df -h
              expect: {exit_code: 1, stdout_contains: "%", stdout_regex: '\\d+%'}
              output_limit: 16KiB
          steps:
            - name: call
              provider:
                type: http
                config: "{{ providers.flags }}"
                with: {url: "http://flags/x"}
              requires_approval: true
              idempotent: true
              retry: {maximum_attempts: 3, initial_interval: 2s}
              rollback:
                provider: {type: http, with: {url: "http://flags/y", method: PATCH}}
                timeout: 30s
            - name: local
              run: echo {{ steps.check.stdout }}
              connector: local
              rollback: {run: echo undo, connector: ssh}
          postchecks:
            - {name: after, run: df -h, output_limit: 1000}
        """
    )
    assert plan.name == "Full" and plan.description == "every field"
    assert plan.match.keywords == ("disk", "full")
    assert plan.match.severities == ("SEV1", "SEV2")
    assert plan.target_connection == "{{ inputs.host }}"
    assert plan.approval.timeout_seconds == 300
    assert plan.approval.escalation_timeout_seconds == 300  # the approval timeout by default
    assert plan.inputs[0].name == "host" and plan.inputs[0].required
    assert plan.consts == {"limit": 5}
    check = plan.prechecks[0]
    assert check.expect == ExpectPlan(exit_codes=(1,), stdout_contains="%", stdout_regex=r"\d+%")
    assert check.output_limit == 16 * 1024
    call, local = plan.steps
    assert call.provider is not None and call.provider.connection == "flags"
    assert call.provider.params == {"url": "http://flags/x", "method": "GET"}
    assert call.retry.maximum_attempts == 3 and call.retry.initial_interval_seconds == 2
    assert call.rollback is not None and call.rollback.provider is not None
    assert call.rollback.provider.params["method"] == "PATCH"
    assert call.rollback.timeout_seconds == 30
    assert local.connector == "local"
    assert local.rollback is not None and local.rollback.connector == "ssh"
    assert plan.postchecks[0].output_limit == 1000
    assert [s.name for s in plan.all_steps()] == ["check", "call", "local", "after"]
    assert plan.step("local") is local and plan.step("nope") is None
    assert plan.providers_used() == {("http", "flags"), ("http", None)}


def test_the_plan_round_trips_through_json_and_the_temporal_converter():
    plan = compile_file(REPO / "yaml_workflows" / "disable-feature-flag.yaml").runbook
    assert plan is not None
    assert RunbookPlan.model_validate_json(plan.model_dump_json()) == plan
    converter = pydantic_data_converter.payload_converter
    (payload,) = converter.to_payloads([plan])
    (back,) = converter.from_payloads([payload], [RunbookPlan])
    assert back == plan


# --- the content hash -------------------------------------------------------------------


def test_the_hash_ignores_comments_line_numbers_and_the_file_path():
    commented = "# Restart the app.\n\n" + RUNBOOK.replace(
        "    - name: restart\n", "    # the only step\n    - name: restart\n"
    )
    plain, moved = plan_of(RUNBOOK), plan_of(commented, "elsewhere/rb.yaml")
    assert moved.steps[0].line != plain.steps[0].line
    assert moved.steps[0].rollback != plain.steps[0].rollback  # its line moved too
    assert moved.plan_hash == plain.plan_hash


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("timeout: 2m", "timeout: 3m"),
        ("systemctl restart app", "systemctl restart app2"),
        ("rollback: systemctl start app", "rollback: systemctl start app --now"),
        ("      timeout: 2m\n", "      timeout: 2m\n      requires_approval: true\n"),
    ],
)
def test_the_hash_changes_with_what_a_step_does(old, new):
    changed = RUNBOOK.replace(old, new)
    assert changed != RUNBOOK
    assert plan_of(changed).plan_hash != plan_of(RUNBOOK).plan_hash


# --- next to workflows ------------------------------------------------------------------


def test_load_directory_returns_workflows_and_runbooks(tmp_path: Path):
    (tmp_path / "a-workflow.yaml").write_text(WORKFLOW % "announce")
    (tmp_path / "b-runbook.yaml").write_text(RUNBOOK)
    (tmp_path / "notes.txt").write_text("not yaml")
    workflow, runbook = load_directory(tmp_path)
    assert workflow.plan is not None and workflow.plan.id == "announce"
    assert not workflow.is_runbook and workflow.runbook is None
    assert runbook.is_runbook and runbook.plan is None
    assert runbook.runbook is not None and runbook.runbook.id == "restart-app"
    assert [r.definition_id for r in (workflow, runbook)] == ["announce", "restart-app"]


def test_ids_are_unique_across_workflows_and_runbooks(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(WORKFLOW % "restart-app")
    (tmp_path / "b.yaml").write_text(RUNBOOK)
    (tmp_path / "c.yaml").write_text(RUNBOOK)
    first, second, third = load_directory(tmp_path)
    assert first.plan is not None
    assert second.runbook is None and third.runbook is None
    (clash,) = second.errors
    assert (clash.line, clash.col) == (2, 7)
    assert clash.message == (
        f"duplicate runbook id 'restart-app': already defined in {tmp_path / 'a.yaml'} "
        "(a workflow); ids must be unique across workflows and runbooks"
    )
    (again,) = third.errors
    assert again.message == (
        f"duplicate runbook id 'restart-app': already defined in {tmp_path / 'a.yaml'} "
        "(a workflow); ids must be unique across workflows and runbooks"
    )


def test_a_second_runbook_with_the_same_id_names_the_first(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(RUNBOOK)
    (tmp_path / "b.yaml").write_text(RUNBOOK)
    first, second = load_directory(tmp_path)
    assert first.runbook is not None and second.runbook is None
    (clash,) = second.errors
    assert (
        clash.message
        == f"duplicate runbook id 'restart-app': already defined in {tmp_path / 'a.yaml'}"
    )


def test_the_workflow_registry_ignores_runbooks(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(WORKFLOW % "announce")
    (tmp_path / "b.yaml").write_text(RUNBOOK)
    registry = WorkflowRegistry(tmp_path, tmp_path / "providers.yaml")
    (entry,) = registry.reload()
    assert entry.workflow_id == "announce" and entry.active
    assert registry.find("restart-app") is None


# --- fireline lint, the real command ------------------------------------------------------


def fireline_lint(*paths: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    return subprocess.run(
        [str(FIRELINE), "lint", *paths], capture_output=True, text=True, cwd=cwd, env=env
    )


def test_lint_of_the_shipped_directory_passes_and_lists_the_runbooks():
    result = fireline_lint("yaml_workflows", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("yaml_workflows/clear-disk-space.yaml: ok — runbook clear-disk-space, ")
        for line in lines
    ), lines
    summary = "runbook restart-systemd-service, 2 prechecks, 1 step, 2 postchecks, 1 approval gate"
    assert any(summary in line for line in lines), lines
    assert lines[-1].endswith("0 errors, 0 warnings")


def test_lint_of_a_directory_with_a_broken_runbook_exits_one(tmp_path: Path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "good.yaml").write_text(WORKFLOW % "announce")
    (flows / "broken.yaml").write_text(
        RUNBOOK.replace("rollback: systemctl start app", "rollback: echo {{ steps.later.stdout }}")
        + "    - name: later\n      run: echo later\n"
    )
    good_plan = compile_file(flows / "good.yaml").plan
    assert good_plan is not None
    result = fireline_lint("flows", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "flows/broken.yaml:7:17: step 'restart' rollback: references step 'later', "
        "which runs after it",
        f"flows/good.yaml: ok — workflow announce, 1 step, 1 trigger, plan {good_plan.plan_hash}",
        "2 files checked: 1 ok, 1 error, 0 warnings",
    ]


def test_lint_warnings_for_raw_do_not_fail(tmp_path: Path):
    (tmp_path / "raw.yaml").write_text(
        RUNBOOK.replace("systemctl restart app", "systemctl restart {{ incident.unit | raw }}")
    )
    result = fireline_lint("raw.yaml", cwd=tmp_path)
    assert result.returncode == 0
    warning, ok, totals = result.stdout.splitlines()
    assert warning == (
        "raw.yaml:6:12: warning: step 'restart': run: `| raw` disables shell quoting; "
        "make sure the value cannot come from an incident"
    )
    assert ok.startswith("raw.yaml: ok — runbook restart-app, 1 step, plan ")
    assert totals == "1 file checked: 1 ok, 0 errors, 1 warning"


def test_escalation_group_reaches_the_plan_and_an_empty_one_is_refused() -> None:
    grouped = RUNBOOK.replace("  id: restart-app\n", "  id: restart-app\n  escalation_group: DBA\n")
    assert plan_of(grouped).escalation_group == "DBA"

    empty = RUNBOOK.replace("  id: restart-app\n", '  id: restart-app\n  escalation_group: ""\n')
    result = compile_text(empty, "rb.yaml")
    assert result.runbook is None
    assert located(result) == ["3:21: escalation_group: String should have at least 1 character"]
