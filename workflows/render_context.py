"""The names a template can see while a plan runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.models import StepOutcome, WorkflowInput


class RenderContext:
    def __init__(self, base: dict[str, Any], incident_id: str | None) -> None:
        self._base = base
        self.incident_id = incident_id

    @classmethod
    def for_run(cls, run_input: WorkflowInput, now: datetime) -> RenderContext:
        incident = incident_view(run_input.incident)
        incident_id = incident.get("id") if incident else None
        base_url = run_input.fireline_url.rstrip("/")
        fireline = {"url": base_url}
        if incident_id:
            fireline["incident_url"] = f"{base_url}/incidents/{incident_id}"  # the console page
        base = {
            "incident": incident,
            "steps": {},
            "consts": dict(run_input.plan.consts),
            "inputs": dict(run_input.inputs),
            "fireline": fireline,
            "now": now,
        }
        return cls(base, incident_id)

    def values(self, **extra: Any) -> dict[str, Any]:
        return {**self._base, **extra}

    def record(self, outcome: StepOutcome) -> None:
        self._base["steps"][outcome.name] = {
            "status": outcome.status,
            "results": outcome.results,
            "error": outcome.error,
        }

    def apply_enrichments(self, enrichments: dict[str, Any]) -> None:
        incident = self._base["incident"]
        merged = {**incident.get("enrichments", {}), **enrichments}
        core = {k: v for k, v in incident.items() if k not in incident.get("enrichments", {})}
        self._base["incident"] = incident_view({**core, "enrichments": merged})


def incident_view(snapshot: dict[str, Any] | None) -> dict[str, Any]:
    """The incident as templates see it: enrichments also readable at top level.

    `incident.target_project` works as in Keep; a core field is never shadowed.
    """
    if not snapshot:
        return {}
    view = dict(snapshot)
    for key, value in (snapshot.get("enrichments") or {}).items():
        view.setdefault(key, value)
    return view
