"""The runbooks shipped in yaml_workflows/: they compile clean, say what they should, and
their commands do what they claim when a real /bin/sh runs them."""

import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsl.compiler import compile_file
from dsl.plan import RetryPlan
from dsl.runbook_plan import RunbookPlan, RunbookStepPlan
from dsl.shell import render_command
from dsl.templates import render_value
from tests.conftest import REPO

SHIPPED = REPO / "yaml_workflows"
RUNBOOK_FILES = [
    "restart-systemd-service.yaml",
    "clear-disk-space.yaml",
    "disable-feature-flag.yaml",
]


def shipped(name: str) -> RunbookPlan:
    result = compile_file(SHIPPED / name)
    assert result.diagnostics == [], [str(d) for d in result.diagnostics]
    assert result.runbook is not None
    return result.runbook


def input_defaults(plan: RunbookPlan) -> dict[str, Any]:
    return {item.name: item.default for item in plan.inputs}


def context(plan: RunbookPlan, incident: dict[str, Any], **inputs: Any) -> dict[str, Any]:
    return {
        "incident": incident,
        "inputs": {**input_defaults(plan), **inputs},
        "consts": plan.consts,
        "target": {"connection": "web-1", "host": "web-1.example"},
        "steps": {},
    }


@pytest.mark.parametrize("name", RUNBOOK_FILES)
def test_every_shipped_runbook_compiles_clean(name):
    plan = shipped(name)
    assert plan.id == name.removesuffix(".yaml")
    assert plan.source_path == str(SHIPPED / name)
    assert len(plan.plan_hash) == 16
    assert plan.description


def test_restart_systemd_service():
    plan = shipped("restart-systemd-service.yaml")
    assert plan.target_connection == "{{ inputs.host | default(incident.ci | default(''), true) }}"
    assert plan.approval.roles == ("SRE_LEAD", "ONCALL_ENGINEER")
    assert plan.approval.timeout_seconds == 900
    assert plan.approval.on_timeout == "escalate"
    assert plan.approval.escalate_to == ("ORG_ADMIN",)
    assert plan.approval.escalation_timeout_seconds == 1800
    assert "SEV1" in plan.match.severities and "5xx" in plan.match.keywords
    assert [s.name for s in plan.prechecks] == ["unit-status", "unit-state"]
    assert plan.prechecks[0].expect.exit_codes == (0, 3)
    (restart,) = plan.steps
    assert restart.requires_approval and not restart.idempotent
    assert restart.retry == RetryPlan(maximum_attempts=1)
    assert restart.timeout_seconds == 120
    assert restart.rollback is not None
    assert restart.rollback.run is not None
    assert restart.rollback.run.startswith("systemctl start ")
    assert restart.rollback.retry.maximum_attempts == 3
    assert [s.name for s in plan.postchecks] == ["unit-active", "health"]
    health = plan.postchecks[1]
    assert health.idempotent and health.retry.maximum_attempts == 5
    assert health.output_limit == 16 * 1024


def test_restart_commands_quote_the_incident_service():
    plan = shipped("restart-systemd-service.yaml")
    values = context(plan, {"service": "app; reboot", "ci": "web-1"})
    rollback = plan.steps[0].rollback
    assert rollback is not None and rollback.run is not None
    assert render_command(plan.steps[0].run or "", values) == "systemctl restart 'app; reboot'"
    assert render_command(rollback.run, values) == "systemctl start 'app; reboot'"
    values["inputs"]["service"] = "nginx"
    assert render_command(plan.steps[0].run or "", values) == "systemctl restart nginx"
    health = plan.postchecks[1].run or ""
    assert render_command(health, values) == ("curl -fsS --max-time 5 http://localhost:8080/health")


def test_disable_feature_flag_uses_the_http_provider_with_a_rollback():
    plan = shipped("disable-feature-flag.yaml")
    assert plan.target_connection is None
    (read,) = plan.prechecks
    (disable,) = plan.steps
    assert read.provider is not None and read.provider.type == "http"
    assert read.provider.connection == "feature_flags"
    assert disable.provider is not None
    assert disable.provider.params["method"] == "PATCH"
    assert disable.requires_approval and disable.idempotent
    assert disable.rollback is not None and disable.rollback.provider is not None
    assert disable.rollback.provider.params["method"] == "PATCH"
    (healthy,) = plan.postchecks
    assert healthy.connector == "local" and healthy.run is not None
    assert plan.providers_used() == {("http", "feature_flags")}


def test_feature_flag_rollback_puts_back_the_state_read_before():
    plan = shipped("disable-feature-flag.yaml")
    values = context(plan, {"id": "inc-9", "title": "Checkout 5xx"}, flag="new/checkout?x=1")
    values["steps"] = {"read-flag": {"results": {"body": {"key": "x", "enabled": True}}}}
    disable, rollback = plan.steps[0].provider, plan.steps[0].rollback
    assert disable is not None and rollback is not None and rollback.provider is not None
    sent = render_value(disable.params, values)
    assert sent["url"] == "http://localhost:8500/api/flags/new%2Fcheckout%3Fx%3D1"
    assert sent["json"] == {"enabled": False, "reason": "Fireline incident inc-9: Checkout 5xx"}
    assert render_value(rollback.provider.params, values)["json"]["enabled"] is True
    values["steps"]["read-flag"]["results"]["body"]["enabled"] = False
    assert render_value(rollback.provider.params, values)["json"]["enabled"] is False


# --- clear-disk-space, run by a real /bin/sh on this machine -------------------------------


@pytest.fixture
def scratch() -> Iterator[Path]:
    # The runbook only cleans below /tmp, /var/tmp or /var/cache: work below /tmp.
    with tempfile.TemporaryDirectory(dir="/tmp") as directory:
        yield Path(directory)


def run_step(step: RunbookStepPlan, values: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    command = render_command(step.run or "", values)
    result = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=False)
    values["steps"][step.name] = {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "exit_code": result.returncode,
    }
    return result


def meets_expectations(step: RunbookStepPlan, result: subprocess.CompletedProcess[str]) -> bool:
    expect = step.expect
    if result.returncode not in expect.exit_codes:
        return False
    if expect.stdout_contains is not None and expect.stdout_contains not in result.stdout:
        return False
    return expect.stdout_regex is None or re.search(expect.stdout_regex, result.stdout) is not None


def test_clear_disk_space_deletes_only_old_files_in_the_checked_directory(scratch):
    plan = shipped("clear-disk-space.yaml")
    old, new = scratch / "old.log", scratch / "new.log"
    old.write_text("old")
    new.write_text("new")
    subprocess.run(["touch", "-d", "30 days ago", str(old)], check=True)
    values = context(plan, {"ci": "web-1"}, directory=str(scratch), mount="/tmp")
    values["inputs"]["threshold_percent"] = 0  # any usage is "above" it
    usage, directory = plan.prechecks
    assert meets_expectations(usage, run_step(usage, values))
    assert meets_expectations(directory, run_step(directory, values))
    assert values["steps"]["safe-directory"]["stdout"].strip() == str(scratch.resolve())
    delete = plan.step("delete-old-files")
    assert delete is not None and delete.requires_approval and delete.rollback is None
    result = run_step(delete, values)
    assert meets_expectations(delete, result)
    assert result.stdout.splitlines() == [str(old.resolve())]
    assert not old.exists() and new.exists()


def test_clear_disk_space_refuses_a_disk_below_the_threshold(scratch):
    plan = shipped("clear-disk-space.yaml")
    values = context(plan, {}, directory=str(scratch), mount="/tmp", threshold_percent=101)
    usage = plan.prechecks[0]
    assert not meets_expectations(usage, run_step(usage, values))


@pytest.mark.parametrize("outside", ["/etc", "{scratch}/../../etc", "/var/log"])
def test_clear_disk_space_refuses_directories_outside_the_disposable_ones(scratch, outside):
    plan = shipped("clear-disk-space.yaml")
    values = context(plan, {}, directory=outside.format(scratch=scratch))
    check = plan.prechecks[1]
    result = run_step(check, values)
    assert not meets_expectations(check, result)
    assert "refusing to clean" in result.stderr
    assert result.stdout == ""


def test_clear_disk_space_refuses_a_hostile_directory_without_running_it(scratch):
    plan = shipped("clear-disk-space.yaml")
    marker = scratch / "pwned"
    values = context(plan, {}, directory=f"/tmp; touch {marker}")
    result = run_step(plan.prechecks[1], values)
    assert result.returncode != 0
    assert not marker.exists()
