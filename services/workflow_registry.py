"""The loaded YAML definitions: workflows and runbooks, which compiled, which can run, and why not.

Both kinds share `workflows_dir` (and one id space) with the triage rules file;
`reload()` reads them together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.connections import Connections
from dsl.compiler import CompileResult, load_directory
from dsl.plan import WorkflowPlan
from dsl.providers import PROVIDERS
from dsl.runbook_plan import RunbookPlan
from dsl.triage_plan import TriageRulesPlan
from dsl.yaml_source import YamlSyntaxError, load_yaml


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


@dataclass(frozen=True)
class RunbookEntry:
    file: str
    # From the file even when it has errors (None if it cannot be read), so a session
    # start can say what is wrong with the runbook it names.
    runbook_id: str | None
    plan: RunbookPlan | None  # None when there is any error
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # Why its provider steps cannot run (a connection missing from the providers file).
    inactive_reason: str | None = None

    @property
    def usable(self) -> bool:
        return self.plan is not None and not self.errors and self.inactive_reason is None


@dataclass(frozen=True)
class TriageEntry:
    """A `triage:` file; only the first in the directory applies (a second has an error)."""

    file: str
    plan: TriageRulesPlan | None  # None when there is any error
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass
class WorkflowRegistry:
    workflows_dir: Path
    providers_file: Path
    entries: list[WorkflowEntry] = field(default_factory=list)
    runbooks: list[RunbookEntry] = field(default_factory=list)
    triage_files: list[TriageEntry] = field(default_factory=list)

    def reload(self) -> list[WorkflowEntry]:
        """Read every file again; the workflows are returned, runbooks and triage kept too."""
        connections = Connections.load(self.providers_file)
        results = load_directory(self.workflows_dir) if self.workflows_dir.is_dir() else []
        self.entries = [
            _entry(r, connections) for r in results if not (r.is_runbook or r.is_triage)
        ]
        self.runbooks = [_runbook_entry(r, connections) for r in results if r.is_runbook]
        self.triage_files = [_triage_entry(r) for r in results if r.is_triage]
        return self.entries

    def triage_rules(self) -> TriageRulesPlan | None:
        """The rules of the triage file; None when there is none or it has errors."""
        return next((e.plan for e in self.triage_files if e.plan is not None), None)

    def find_runbook(self, runbook_id: str) -> RunbookEntry | None:
        """The runbook with this id; a compiled one first (a duplicate id has errors)."""
        named = [e for e in self.runbooks if e.runbook_id == runbook_id]
        return next((e for e in named if e.plan is not None), named[0] if named else None)

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


def _runbook_entry(result: CompileResult, connections: Connections) -> RunbookEntry:
    plan = result.runbook
    return RunbookEntry(
        file=str(result.file),
        runbook_id=plan.id if plan else _written_id(Path(result.file)),
        plan=plan,
        errors=tuple(str(d) for d in result.errors),
        warnings=tuple(str(d) for d in result.warnings),
        inactive_reason=(
            _missing_provider(plan.providers_used(), connections, named_must_exist=True)
            if plan
            else None
        ),
    )


def _triage_entry(result: CompileResult) -> TriageEntry:
    return TriageEntry(
        file=str(result.file),
        plan=result.triage,
        errors=tuple(str(d) for d in result.errors),
        warnings=tuple(str(d) for d in result.warnings),
    )


def _written_id(path: Path) -> str | None:
    """`runbook.id` as written in a file that did not compile, when it can be read."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8")).data
    except (OSError, UnicodeDecodeError, YamlSyntaxError):
        return None
    body = data.get("runbook") if isinstance(data, dict) else None
    written = body.get("id") if isinstance(body, dict) else None
    return written if isinstance(written, str) else None


def _inactive_reason(plan: WorkflowPlan, connections: Connections) -> str | None:
    if plan.disabled:
        return "disabled in the file (disabled: true)"
    return _missing_provider(plan.providers_used(), connections)


def _missing_provider(
    providers_used: set[tuple[str, str | None]],
    connections: Connections,
    *,
    named_must_exist: bool = False,
) -> str | None:
    """Why a provider call cannot run. `named_must_exist`: a connection the file names
    must exist even for a provider that can do without one (http): a session would
    otherwise fail at that step, after changing things."""
    configured = connections.describe()
    for provider_type, connection in sorted(providers_used, key=str):
        named = named_must_exist and connection is not None
        if not PROVIDERS[provider_type].needs_config and not named:
            continue
        name = connection or provider_type
        if configured.get(name) != provider_type:
            return f"provider {provider_type}: {connections.missing_reason(name)}"
    return None
