"""Every activity the worker registers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.commands import CommandActivities, SshTargetResolver
from activities.db import DbActivities, DbTargetResolver
from activities.deps import ActivityDeps
from activities.http import HttpActivities
from activities.incidents import IncidentActivities
from activities.jira import JiraActivities
from activities.notify import NotifyActivities
from activities.servicenow import ServiceNowActivities, ServiceNowResolver
from activities.sessions import SessionActivities
from activities.slack import SlackActivities


def all_activities(
    deps: ActivityDeps,
    ssh_targets: SshTargetResolver | None = None,
    db_targets: DbTargetResolver | None = None,
    servicenow_connections: ServiceNowResolver | None = None,
) -> list[Callable[..., Any]]:
    """`ssh_targets` resolves a runbook session's SSH connection (None: local commands only);
    `db_targets` the connection of a `db` step (None: db steps fail, saying so);
    `servicenow_connections` an org's stored ServiceNow connection (None: providers file only)."""
    incidents = IncidentActivities(deps)
    commands = CommandActivities(deps, ssh_targets)
    sessions = SessionActivities(deps)
    return [
        JiraActivities(deps).jira,
        ServiceNowActivities(deps, servicenow_connections).servicenow,
        SlackActivities(deps).slack,
        HttpActivities(deps).http,
        DbActivities(deps, db_targets).db,
        NotifyActivities(deps).notify,
        incidents.enrich_incident,
        incidents.enrich,
        commands.run_command,
        commands.run_rollback,
        sessions.record_outcome,
        sessions.notify_approval,
    ]
