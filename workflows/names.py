"""Names shared by the worker, the dispatcher and the workflows."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

TASK_QUEUE_DEFAULT = "fireline"

SA_ORG = SearchAttributeKey.for_keyword("FirelineOrg")
SA_INCIDENT = SearchAttributeKey.for_keyword("FirelineIncidentId")
SA_WORKFLOW = SearchAttributeKey.for_keyword("FirelineWorkflow")
SA_SEVERITY = SearchAttributeKey.for_keyword("FirelineSeverity")
SA_PLAN_HASH = SearchAttributeKey.for_keyword("FirelinePlanHash")
# Runbook sessions: where a session stands, and the step waiting for an approval ("" if
# none), so the API can list pending approvals from visibility without asking each run.
SA_SESSION_STATUS = SearchAttributeKey.for_keyword("FirelineSessionStatus")
SA_PENDING_STEP = SearchAttributeKey.for_keyword("FirelinePendingStep")

SEARCH_ATTRIBUTES = (
    SA_ORG,
    SA_INCIDENT,
    SA_WORKFLOW,
    SA_SEVERITY,
    SA_PLAN_HASH,
    SA_SESSION_STATUS,
    SA_PENDING_STEP,
)

ENRICH_ACTIVITY = "incident.enrich"

# Runbook sessions (workflows/session.py, activities/commands.py, activities/sessions.py).
SESSION_WORKFLOW = "RunbookSession"
RUN_COMMAND_ACTIVITY = "session.run_command"
RUN_ROLLBACK_ACTIVITY = "session.run_rollback"
RECORD_OUTCOME_ACTIVITY = "session.record_outcome"
NOTIFY_APPROVAL_ACTIVITY = "session.notify_approval"
# The Update and the Signals an approver's decision arrives through, and the Query.
DECIDE_UPDATE = "decide"
APPROVE_SIGNAL = "approve"
REJECT_SIGNAL = "reject"
STATE_QUERY = "state"

# Triage (workflows/triage.py, activities/triage.py): one run per incident analysis.
TRIAGE_WORKFLOW = "Triage"
TRIAGE_CLASSIFY_ACTIVITY = "triage.classify"
TRIAGE_CLOSE_ACTIVITY = "triage.close"
TRIAGE_MATCH_ACTIVITY = "triage.match"
TRIAGE_DECIDE_ACTIVITY = "triage.decide"
TRIAGE_VERIFY_ACTIVITY = "triage.verify"
TRIAGE_LEARN_WORKFLOW = "TriageLearn"
TRIAGE_LEARN_ACTIVITY = "triage.learn"
# A session triage started tells it when it ends (workflows/session.py → triage.py).
SESSION_FINISHED_SIGNAL = "session_finished"
TRIAGE_REQUESTER = "fireline:triage"  # who automatic sessions are requested by


def triage_run_id(org: str, incident_id: str, event_seq: int) -> str:
    """Also the analysis id the incident and the ingest answer name."""
    return f"{org}:{incident_id}:triage:{event_seq}"


def provider_activity(provider_type: str) -> str:
    return f"provider.{provider_type}"


def triage_learn_run_id(org: str, incident_id: str, event_seq: int) -> str:
    """One retraining per operator verdict (the verdict event's seq)."""
    return f"{org}:{incident_id}:triage-learn:{event_seq}"
