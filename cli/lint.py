"""`fireline lint`: compile workflow, runbook and triage files, print every problem as
file:line:col."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.settings import Settings
from dsl.compiler import CompileResult, check_unique_ids, compile_file, workflow_files
from dsl.diagnostics import Diagnostic
from dsl.plan import WorkflowPlan
from dsl.runbook_plan import RunbookPlan
from dsl.triage_plan import TriageRulesPlan


@dataclass
class _Tally:
    files: int = 0
    clean: int = 0
    errors: int = 0
    warnings: int = 0
    lines: list[str] = field(default_factory=list)


def lint_command(paths: list[Path]) -> int:
    """Exit code 1 when any file has an error (or a path does not exist), else 0.

    Warnings are printed and counted but do not change the exit code.
    """
    tally = _Tally()
    files = _expand(paths or [Settings().workflows_dir], tally)
    for result in check_unique_ids([compile_file(path) for path in files]):
        _report(result, tally)
    tally.lines.append(_totals(tally))
    print("\n".join(tally.lines))
    return 1 if tally.errors else 0


def _expand(paths: list[Path], tally: _Tally) -> list[Path]:
    files: dict[Path, Path] = {}  # resolved -> as given, so a file is checked once
    for path in paths:
        if path.is_dir():
            found = workflow_files(path)
        elif path.is_file():
            found = [path]
        else:
            tally.errors += 1
            tally.lines.append(f"{path}: no such file or directory")
            continue
        for file in found:
            files.setdefault(file.resolve(), file)
    return list(files.values())


def _report(result: CompileResult, tally: _Tally) -> None:
    tally.files += 1
    tally.errors += len(result.errors)
    tally.warnings += len(result.warnings)
    tally.lines += [_diagnostic_line(d) for d in result.diagnostics]
    summary = None
    if result.plan is not None:
        summary = _summary(result.plan)
    elif result.runbook is not None:
        summary = _runbook_summary(result.runbook)
    elif result.triage is not None:
        summary = _triage_summary(result.triage)
    if summary is not None:
        tally.clean += 1
        tally.lines.append(f"{_shown(result.file)}: ok — {summary}")


def _diagnostic_line(diagnostic: Diagnostic) -> str:
    prefix = "warning: " if diagnostic.severity == "warning" else ""
    location = f"{_shown(diagnostic.file)}:{diagnostic.line}:{diagnostic.col}"
    return f"{location}: {prefix}{diagnostic.message}"


def _summary(plan: WorkflowPlan) -> str:
    parts = [f"workflow {plan.id}", _count(len(plan.steps), "step")]
    if plan.actions:
        parts.append(_count(len(plan.actions), "action"))
    parts += [_count(len(plan.triggers), "trigger"), f"plan {plan.plan_hash}"]
    if plan.disabled:
        parts.append("disabled")
    return ", ".join(parts)


def _runbook_summary(plan: RunbookPlan) -> str:
    parts = [f"runbook {plan.id}"]
    if plan.prechecks:
        parts.append(_count(len(plan.prechecks), "precheck"))
    parts.append(_count(len(plan.steps), "step"))
    if plan.postchecks:
        parts.append(_count(len(plan.postchecks), "postcheck"))
    approvals = sum(step.requires_approval for step in plan.steps)
    if approvals:
        parts.append(_count(approvals, "approval gate"))
    parts.append(f"plan {plan.plan_hash}")
    return ", ".join(parts)


def _triage_summary(plan: TriageRulesPlan) -> str:
    return f"triage rules, {_count(len(plan.rules), 'rule')}"


def _totals(tally: _Tally) -> str:
    return (
        f"{_count(tally.files, 'file')} checked: {tally.clean} ok, "
        f"{_count(tally.errors, 'error')}, {_count(tally.warnings, 'warning')}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _shown(file: str) -> str:
    """A path relative to the working directory when it is below it."""
    path = Path(file)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return file
