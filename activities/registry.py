"""Every activity the worker registers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.deps import ActivityDeps
from activities.http import HttpActivities
from activities.incidents import IncidentActivities
from activities.jira import JiraActivities
from activities.notify import NotifyActivities
from activities.slack import SlackActivities


def all_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    incidents = IncidentActivities(deps)
    return [
        JiraActivities(deps).jira,
        SlackActivities(deps).slack,
        HttpActivities(deps).http,
        NotifyActivities(deps).notify,
        incidents.enrich_incident,
        incidents.enrich,
    ]
