"""What `fireline up` prints once everything is ready: where things are, a token, what to try,
and which workflows will not run (and why)."""

from __future__ import annotations

import sys
from pathlib import Path

from core.connections import Connections
from core.settings import REPO_ROOT, Settings
from services.workflow_registry import WorkflowEntry, WorkflowRegistry

DEMO_JIRA_MODULE = "tests.fakes.demo_jira"
DEMO_JIRA_CONNECTION = "jira"  # the connection name tests.fakes.demo_jira writes


def banner_text(
    settings: Settings, token: str, registry: WorkflowRegistry, sign_in: str = ""
) -> str:
    """The whole banner; `registry` has been reloaded from the same settings as the API.
    `sign_in`: how the first admin signs in to the console."""
    api = f"http://{settings.api_host}:{settings.api_port}"
    return "\n".join(
        [
            _places(settings, api) + sign_in,
            _token(token),
            _workflows(settings, registry, api),
            _try_it(api),
            _runbooks(api),
            "Press Ctrl-C to stop.",
        ]
    )


def demo_jira_command(settings: Settings, cwd: Path, python: Path) -> str:
    """The command that starts the demo Jira and writes its connection where the API reads it."""
    shown_python = _relative_or_absolute(python)
    command = f"{shown_python} -m {DEMO_JIRA_MODULE}"
    providers_file = settings.resolved_providers_file
    # The demo writes to the providers file of its own settings: name ours when the
    # default (.fireline/ beside the checkout) would not be the same file.
    if providers_file.resolve() != (REPO_ROOT / ".fireline" / "providers.yaml").resolve():
        command = f"FIRELINE_PROVIDERS_FILE={providers_file} {command}"
    # `tests` is not installed: the module only imports from the checkout.
    if cwd.resolve() != REPO_ROOT.resolve():
        command = f"cd {REPO_ROOT} && {command}"
    return command


def _relative_or_absolute(python: Path) -> str:
    if python.is_relative_to(REPO_ROOT):
        return str(python.relative_to(REPO_ROOT))
    return str(python)


def _places(settings: Settings, api: str) -> str:
    return f"""
Fireline is up.
  Console      {api}/
  API          {api}
  API docs     {api}/docs
  Temporal UI  {settings.resolved_temporal_ui_url}
  Data         {settings.resolved_data_dir}  (providers file: {settings.resolved_providers_file})
"""


def _token(token: str) -> str:
    return f"""Admin token for org "default" (valid 30 days):
  export FIRELINE_TOKEN={token}
"""


def _workflows(settings: Settings, registry: WorkflowRegistry, api: str) -> str:
    entries = registry.entries
    inactive = [entry for entry in entries if not entry.active]
    if not entries:
        return f"Workflows: none found in {registry.workflows_dir}.\n"
    if not inactive:
        return f"Workflows: all {len(entries)} active.\n"
    lines = [
        f"Workflows: {len(entries) - len(inactive)} of {len(entries)} active; "
        "the inactive ones do not run:",
        *(f"  {_label(entry)}: inactive — {_reason(entry)}" for entry in inactive),
    ]
    if _demo_jira_would_help(registry, inactive):
        lines += _demo_jira_steps(settings, api)
    else:
        lines += _reload_steps(api, "Fix the providers file or the workflow files, then reload:")
    return "\n".join(lines) + "\n"


def _label(entry: WorkflowEntry) -> str:
    return entry.workflow_id or Path(entry.file).name


def _reason(entry: WorkflowEntry) -> str:
    reason = entry.inactive_reason or "inactive"
    return f"{reason}: {entry.errors[0]}" if entry.errors else reason


def _demo_jira_would_help(registry: WorkflowRegistry, inactive: list[WorkflowEntry]) -> bool:
    """Some inactive workflow calls Jira through the connection the demo writes, and that
    connection is missing (so the demo fixes it rather than overwriting a real one)."""
    if DEMO_JIRA_CONNECTION in Connections.load(registry.providers_file).describe():
        return False
    demo_calls = {("jira", DEMO_JIRA_CONNECTION), ("jira", None)}
    return any(entry.plan and entry.plan.providers_used() & demo_calls for entry in inactive)


def _demo_jira_steps(settings: Settings, api: str) -> list[str]:
    command = demo_jira_command(settings, Path.cwd(), Path(sys.executable))
    return [
        "No Jira at hand? In another terminal, start the demo Jira (it writes the 'jira'",
        "connection into the providers file):",
        f"  {command}",
        *_reload_steps(api, "then reload the workflows, and try the incident below:"),
    ]


def _reload_steps(api: str, lead: str) -> list[str]:
    return [
        lead,
        f'  curl -s -X POST {api}/v1/workflows/reload -H "Authorization: Bearer $FIRELINE_TOKEN"',
    ]


def _try_it(api: str) -> str:
    return f"""Try it:
  curl -s -X POST {api}/v1/incidents -H "Authorization: Bearer $FIRELINE_TOKEN" \\
       -H 'Content-Type: application/json' \\
       -d '{{"title": "Checkout 5xx", "severity": "SEV2", "service": "checkout",
            "enrichments": {{"target_project": "OPS"}}}}'
  curl -s {api}/v1/workflows -H "Authorization: Bearer $FIRELINE_TOKEN"
  .venv/bin/fireline ingest examples/incidents.csv     # a few incidents from a CSV file
"""


def _runbooks(api: str) -> str:
    return f"""Runbooks (which fit an incident, start one, decide its steps as someone else):
  curl -s {api}/v1/incidents/INCIDENT_ID/runbooks -H "Authorization: Bearer $FIRELINE_TOKEN"
  curl -s -X POST {api}/v1/incidents/INCIDENT_ID/runbooks/clear-disk-space/execute \\
       -H "Authorization: Bearer $FIRELINE_TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"inputs": {{"threshold_percent": 0, "directory": "/tmp"}}}}'
  curl -sN {api}/v1/sessions/SESSION_ID/stream -H "Authorization: Bearer $FIRELINE_TOKEN"
  export APPROVER_TOKEN=$(.venv/bin/fireline token --org default --role SRE_LEAD --sub oncall-lead)
  curl -s {api}/v1/approvals -H "Authorization: Bearer $APPROVER_TOKEN"
  curl -s -X POST {api}/v1/sessions/SESSION_ID/steps/vacuum-journal/reject \\
       -H "Authorization: Bearer $APPROVER_TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"note": "not on this machine"}}'
"""
