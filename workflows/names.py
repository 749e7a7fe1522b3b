"""Names shared by the worker, the dispatcher and the workflows."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

TASK_QUEUE_DEFAULT = "fireline"

SA_ORG = SearchAttributeKey.for_keyword("FirelineOrg")
SA_INCIDENT = SearchAttributeKey.for_keyword("FirelineIncidentId")
SA_WORKFLOW = SearchAttributeKey.for_keyword("FirelineWorkflow")
SA_SEVERITY = SearchAttributeKey.for_keyword("FirelineSeverity")
SA_PLAN_HASH = SearchAttributeKey.for_keyword("FirelinePlanHash")

SEARCH_ATTRIBUTES = (SA_ORG, SA_INCIDENT, SA_WORKFLOW, SA_SEVERITY, SA_PLAN_HASH)

ENRICH_ACTIVITY = "incident.enrich"


def provider_activity(provider_type: str) -> str:
    return f"provider.{provider_type}"
