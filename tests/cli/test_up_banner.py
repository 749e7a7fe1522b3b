"""The banner `fireline up` prints: which shipped workflows will not run and why, and the
one command that starts the demo Jira when that is what they lack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from cli.banner import banner_text, demo_jira_command
from core.settings import REPO_ROOT, Settings
from services.workflow_registry import WorkflowEntry, WorkflowRegistry
from tests.cli.test_up_and_token import GUARD_SECONDS, free_port

TOKEN = "token-for-the-banner"
JIRA = {"type": "jira", "authentication": {"url": "http://127.0.0.1:1", "email": "a@b.c"}}
SERVICENOW = {"type": "servicenow", "authentication": {"url": "http://127.0.0.1:1"}}
SLACK = {"type": "slack", "authentication": {"webhook_url": "http://127.0.0.1:1/hook"}}


def settings_for(tmp_path: Path, **connections: object) -> Settings:
    """Settings whose providers file (in tmp_path) holds exactly `connections`."""
    providers_file = tmp_path / "providers.yaml"
    providers_file.write_text(yaml.safe_dump(connections))
    return Settings(
        data_dir=tmp_path / "data",
        providers_file=providers_file,
        workflows_dir=REPO_ROOT / "yaml_workflows",
        api_host="127.0.0.1",
        api_port=8000,
    )


def registry_for(settings: Settings) -> WorkflowRegistry:
    registry = WorkflowRegistry(settings.workflows_dir, settings.resolved_providers_file)
    registry.reload()
    return registry


def banner(settings: Settings) -> list[str]:
    return banner_text(settings, TOKEN, registry_for(settings)).splitlines()


def inactive_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if ": inactive — " in line]


def entry(registry: WorkflowRegistry, workflow_id: str) -> WorkflowEntry:
    found = registry.find(workflow_id)
    assert found is not None, f"{workflow_id} is not in yaml_workflows/"
    return found


def test_without_jira_the_banner_names_the_inactive_workflows_and_the_demo_jira(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, slack=SLACK)
    registry = registry_for(settings)
    lines = banner_text(settings, TOKEN, registry).splitlines()

    inactive = [e for e in registry.entries if not e.active]
    assert inactive_lines(lines) == [
        f"  {e.workflow_id}: inactive — {e.inactive_reason}" for e in inactive
    ]
    assert (
        "  jira-incident-integration: inactive — provider jira: connection 'jira' is not "
        "configured (configured: slack); add it to the providers file"
    ) in lines
    total = len(registry.entries)
    assert (
        f"Workflows: {total - len(inactive)} of {total} active; the inactive ones do not run:"
        in lines
    )
    command = f"FIRELINE_PROVIDERS_FILE={settings.resolved_providers_file} "
    assert any(line.strip().startswith(command) for line in lines), lines
    assert any(line.rstrip().endswith("-m tests.fakes.demo_jira") for line in lines)
    reload = (
        'curl -s -X POST http://127.0.0.1:8000/v1/workflows/reload -H "Authorization: Bearer '
        '$FIRELINE_TOKEN"'
    )
    assert f"  {reload}" in lines
    assert f"  export FIRELINE_TOKEN={TOKEN}" in lines


def test_with_every_connection_the_banner_says_all_workflows_are_active(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, jira=JIRA, slack=SLACK, servicenow=SERVICENOW)
    registry = registry_for(settings)
    lines = banner_text(settings, TOKEN, registry).splitlines()

    assert f"Workflows: all {len(registry.entries)} active." in lines
    assert inactive_lines(lines) == []
    assert not any("demo_jira" in line or "/v1/workflows/reload" in line for line in lines)


def test_a_missing_slack_gets_the_reload_hint_but_not_the_demo_jira(tmp_path: Path) -> None:
    lines = banner(settings_for(tmp_path, jira=JIRA))

    listed = inactive_lines(lines)
    assert any(line.startswith("  slack-sev1: inactive — provider slack: ") for line in listed)
    # ServiceNow connections may also live in each org's connection store.
    assert not any(line.startswith("  servicenow-") for line in listed)
    assert not any(line.startswith("  jira-") for line in listed)
    assert not any("demo_jira" in line for line in lines)
    assert "Fix the providers file or the workflow files, then reload:" in lines


def test_a_jira_connection_of_another_type_is_not_overwritten_by_the_demo(
    tmp_path: Path,
) -> None:
    lines = banner(settings_for(tmp_path, jira=SLACK, slack=SLACK))

    listed = inactive_lines(lines)
    assert any(line.startswith("  jira-incident-integration: inactive — ") for line in listed)
    assert not any("demo_jira" in line for line in lines)


def test_a_fresh_install_without_a_providers_file_is_told_so(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    settings.resolved_providers_file.unlink()

    lines = banner(settings)

    assert (
        "  jira-incident-integration: inactive — provider jira: connection 'jira' is not "
        f"configured (providers file {settings.resolved_providers_file} does not exist); "
        "add it to the providers file"
    ) in lines
    assert any(line.rstrip().endswith("-m tests.fakes.demo_jira") for line in lines)


# ------------------------------------------------------------------ the demo Jira command


def test_from_the_checkout_with_the_defaults_the_command_is_the_readme_one(
    tmp_path: Path,
) -> None:
    settings = Settings(
        data_dir=tmp_path, providers_file=REPO_ROOT / ".fireline" / "providers.yaml"
    )
    command = demo_jira_command(settings, REPO_ROOT, REPO_ROOT / ".venv" / "bin" / "python")
    assert command == ".venv/bin/python -m tests.fakes.demo_jira"


def test_the_printed_command_activates_the_jira_workflow_from_anywhere(tmp_path: Path) -> None:
    """Run the command the banner prints from another directory, with a providers file that
    is not the default one: the same registry then finds the Jira workflow active."""
    (tmp_path / "conf").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    settings = settings_for(tmp_path / "conf", slack=SLACK)
    registry = registry_for(settings)
    assert not entry(registry, "jira-incident-integration").active
    command = demo_jira_command(settings, elsewhere, Path(sys.executable))
    assert command.startswith(f"cd {REPO_ROOT} && FIRELINE_PROVIDERS_FILE=")

    output = tmp_path / "demo.out"
    with _running(f"{command} --port {free_port()}", cwd=elsewhere, output=output) as demo:
        _wait_for_line(demo, output, "connection 'jira' written to")

    registry.reload()
    assert entry(registry, "jira-incident-integration").active


@contextmanager
def _running(command: str, *, cwd: Path, output: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    env["PYTHONUNBUFFERED"] = "1"  # so its lines reach the file as they are printed
    with output.open("wb") as sink:
        process = subprocess.Popen(
            command,
            shell=True,  # the banner's command, run as a user pastes it
            cwd=cwd,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped below
        )
        try:
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()


def _wait_for_line(process: subprocess.Popen[bytes], output: Path, text: str) -> None:
    deadline = time.monotonic() + GUARD_SECONDS  # only bounds a hang
    while text not in output.read_text():
        assert process.poll() is None, f"the demo Jira exited: {output.read_text()}"
        assert time.monotonic() < deadline, f"the demo Jira never said {text!r}"
        time.sleep(0.1)
