"""`fireline lint`: compile workflow files, print every problem as file:line:col."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.settings import Settings
from dsl.compiler import CompileResult, check_unique_ids, compile_file, workflow_files
from dsl.diagnostics import Diagnostic
from dsl.plan import WorkflowPlan


@dataclass
class _Tally:
    files: int = 0
    clean: int = 0
    errors: int = 0
    warnings: int = 0
    lines: list[str] = field(default_factory=list)


def lint_command(paths: list[Path]) -> int:
    """Exit code 1 when any file has an error (or a path does not exist), else 0."""
    tally = _Tally()
    files = _expand(paths or [Settings().workflows_dir], tally)
    results = [compile_file(path) for path in files]
    explicit = {str(path) for path in paths if path.is_file()}
    for result in results:
        if result.is_runbook and result.file in explicit:
            tally.lines.append(f"{_shown(result.file)}: skipped — a runbook, not a workflow")
    for result in check_unique_ids([r for r in results if not r.is_runbook]):
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
    if result.plan is not None:
        tally.clean += 1
        tally.lines.append(f"{_shown(result.file)}: ok — {_summary(result.plan)}")


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
