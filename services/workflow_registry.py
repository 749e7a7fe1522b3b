"""The loaded YAML workflow definitions: which compiled, which can run, and why not."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.connections import Connections
from dsl.compiler import CompileResult, load_directory
from dsl.plan import WorkflowPlan
from dsl.providers import PROVIDERS


@dataclass(frozen=True)
class WorkflowEntry:
    file: str
    workflow_id: str | None
    plan: WorkflowPlan | None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    inactive_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.plan is not None and self.inactive_reason is None


@dataclass
class WorkflowRegistry:
    workflows_dir: Path
    providers_file: Path
    entries: list[WorkflowEntry] = field(default_factory=list)

    def reload(self) -> list[WorkflowEntry]:
        connections = Connections.load(self.providers_file)
        results = load_directory(self.workflows_dir) if self.workflows_dir.is_dir() else []
        # Runbooks share the directory (and the id space) but are not workflows.
        self.entries = [_entry(r, connections) for r in results if not r.is_runbook]
        return self.entries

    def active_plans(self) -> list[WorkflowPlan]:
        return [e.plan for e in self.entries if e.active and e.plan is not None]

    def find(self, workflow_id: str) -> WorkflowEntry | None:
        return next((e for e in self.entries if e.workflow_id == workflow_id), None)


def _entry(result: CompileResult, connections: Connections) -> WorkflowEntry:
    errors = tuple(str(d) for d in result.diagnostics if d.severity == "error")
    warnings = tuple(str(d) for d in result.diagnostics if d.severity != "error")
    plan = result.plan
    return WorkflowEntry(
        file=str(result.file),
        workflow_id=plan.id if plan else None,
        plan=plan,
        errors=errors,
        warnings=warnings,
        inactive_reason=_inactive_reason(plan, connections) if plan else "has errors",
    )


def _inactive_reason(plan: WorkflowPlan, connections: Connections) -> str | None:
    if plan.disabled:
        return "disabled in the file (disabled: true)"
    configured = connections.describe()
    for provider_type, connection in sorted(plan.providers_used(), key=str):
        if not PROVIDERS[provider_type].needs_config:
            continue
        name = connection or provider_type
        if configured.get(name) != provider_type:
            return f"provider {provider_type}: {connections.missing_reason(name)}"
    return None
