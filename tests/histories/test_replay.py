"""Every recorded history replays against today's workflow code (`record.py` makes them).

A run in flight survives a deploy only if the new code makes the same decisions from
the same history; these replays are how CI knows it does, for every shipped workflow,
runbook and session branch.
"""

from __future__ import annotations

import base64
import importlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from tests.conftest import REPO
from tests.fakes.jira_server import FakeJira
from tests.fakes.servicenow_server import FakeServiceNow
from tests.fakes.slack_server import WEBHOOK_PATH
from tests.histories.record import HISTORIES, PATCHED
from worker import WORKFLOWS, sandboxed_runner

RECORDED = sorted(HISTORIES.glob("*.json")) + sorted(PATCHED.glob("*.json"))
SESSION_BRANCHES = {
    "approved",
    "approved-by-signal",
    "signal-refused",
    "hil-every-step",
    "rejected",
    "timed-out",
    "failed-step-rolled-back",
    "failed-postcheck",
    "cancelled",
}


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


async def replay(path: Path, workflows: tuple[type, ...] = WORKFLOWS) -> None:
    replayer = Replayer(
        workflows=list(workflows),
        data_converter=pydantic_data_converter,
        workflow_runner=sandboxed_runner(strict=True),
    )
    await replayer.replay_workflow(history(path))


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_recorded_history_replays_on_todays_code(path: Path) -> None:
    await replay(path)


def test_every_shipped_definition_and_session_branch_has_a_history() -> None:
    recorded = {path.stem for path in RECORDED}
    expected = {"Triage", "TriageLearn"} | {f"session-{b}" for b in SESSION_BRANCHES}
    for path in (REPO / "yaml_workflows").glob("*.yaml"):
        document = yaml.safe_load(path.read_text())
        if "workflow" in document:
            expected.add(document["workflow"]["id"])
        elif "runbook" in document:
            expected.add(f"session-{document['runbook']['id']}")
    assert expected - recorded == set()


def test_triage_replays_from_before_and_after_its_stages_became_local_activities() -> None:
    """workflows/triage.py's LOCAL_STAGES patch: a triage in flight across the upgrade
    still has its stages as activities in its history."""
    before = _event_types(PATCHED / "Triage-stages-as-activities.json")
    after = _event_types(HISTORIES / "Triage.json")
    assert before.count("ACTIVITY_TASK_SCHEDULED") == 3
    assert "MARKER_RECORDED" not in before
    assert "ACTIVITY_TASK_SCHEDULED" not in after
    assert after.count("MARKER_RECORDED") == 4  # the patch, then one per stage


def _event_types(path: Path) -> list[str]:
    events = json.loads(path.read_text())["events"]
    return [str(event["eventType"]).removeprefix("EVENT_TYPE_") for event in events]


def test_no_history_holds_a_secret() -> None:
    secrets = (FakeJira.API_TOKEN, FakeServiceNow.PASSWORD, WEBHOOK_PATH)
    for path in RECORDED:
        text = "\n".join(_payloads(json.loads(path.read_text())))
        assert text, path.name
        assert [s for s in secrets if s in text] == [], path.name


# --- a change that breaks determinism fails the replay -------------------------------------

STEP_LOOP = "for step in self.plan.all_steps():"


@pytest.mark.parametrize(
    ("change", "breaks"),
    [
        # Running the steps in another order schedules other activities than the history.
        ((STEP_LOOP, "for step in reversed(self.plan.all_steps()):"), True),
        # A new timer before the first step: a command the history does not have.
        ((STEP_LOOP, f"await workflow.sleep(1)\n        {STEP_LOOP}"), True),
        # Renaming a local variable changes no command: runs in flight are safe.
        (("step_outcome", "outcome_of_step"), False),
    ],
    ids=["steps-reordered", "timer-added", "variable-renamed"],
)
async def test_a_changed_interpreter_replays_only_if_it_decides_the_same(
    change: tuple[str, str], breaks: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (REPO / "workflows" / "interpreter.py").read_text()
    old, new = change
    assert old in source
    module = f"changed_interpreter_{tmp_path.name}"  # one module per case: no import cache
    (tmp_path / f"{module}.py").write_text(source.replace(old, new))
    monkeypatch.syspath_prepend(str(tmp_path))
    changed = importlib.import_module(module)
    recorded = HISTORIES / "jira-incident-integration.json"  # two steps, three activities

    if breaks:
        with pytest.raises(NondeterminismError):
            await replay(recorded, (changed.YamlWorkflowInterpreter,))
    else:
        await replay(recorded, (changed.YamlWorkflowInterpreter,))


def test_the_replays_import_every_workflow_module_into_the_sandbox() -> None:
    """The worker passes workflow modules through its sandbox to share them between
    runs; the replays must not, or the sandbox would not check those modules at all."""
    shared = sandboxed_runner().restrictions.passthrough_modules
    checked = sandboxed_runner(strict=True).restrictions.passthrough_modules
    for workflow_class in WORKFLOWS:
        package = workflow_class.__module__.split(".")[0]
        assert package in shared
        assert package not in checked and workflow_class.__module__ not in checked


async def test_the_sandbox_refuses_a_clock_read_in_workflow_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clock read would pass the history replay (the sandbox's result is not in it):
    the sandbox stops it."""
    source = (REPO / "workflows" / "interpreter.py").read_text()
    clock_read = f"__import__('datetime').datetime.now()\n        {STEP_LOOP}"
    module = "interpreter_reading_the_clock"
    (tmp_path / f"{module}.py").write_text(source.replace(STEP_LOOP, clock_read))
    monkeypatch.syspath_prepend(str(tmp_path))
    changed = importlib.import_module(module)

    with pytest.raises(Exception, match=r"datetime\.datetime\.now"):
        await replay(
            HISTORIES / "jira-incident-integration.json", (changed.YamlWorkflowInterpreter,)
        )


def _payloads(node: Any) -> list[str]:
    """Every payload's decoded data in a history's JSON."""
    if isinstance(node, dict):
        data = node.get("data")
        if isinstance(data, str) and "metadata" in node:
            return [base64.b64decode(data).decode("utf-8", "replace")]
        return [text for value in node.values() for text in _payloads(value)]
    if isinstance(node, list):
        return [text for value in node for text in _payloads(value)]
    return []
