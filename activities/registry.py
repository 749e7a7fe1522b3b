"""Every activity the worker registers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.commands import CommandActivities, SshTargetResolver
from activities.deps import ActivityDeps
from activities.http import HttpActivities
from activities.incidents import IncidentActivities
from activities.jira import JiraActivities
from activities.notify import NotifyActivities
from activities.sessions import SessionActivities
from activities.slack import SlackActivities


def all_activities(
    deps: ActivityDeps, ssh_targets: SshTargetResolver | None = None
) -> list[Callable[..., Any]]:
    """`ssh_targets` resolves a runbook session's SSH connection (None: local commands only)."""
    incidents = IncidentActivities(deps)
    commands = CommandActivities(deps, ssh_targets)
    sessions = SessionActivities(deps)
    return [
        JiraActivities(deps).jira,
        SlackActivities(deps).slack,
        HttpActivities(deps).http,
        NotifyActivities(deps).notify,
        incidents.enrich_incident,
        incidents.enrich,
        commands.run_command,
        commands.run_rollback,
        sessions.record_outcome,
        sessions.notify_approval,
    ]
