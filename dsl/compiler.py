"""Workflow and runbook YAML -> validated spec -> frozen plan, every problem at file:line:col.

A file with a top-level `runbook:` key is a runbook (`dsl.runbook_compiler`), one with a
top-level `triage:` key holds the triage rules (`dsl.triage_rules`); any other is a
workflow. Compiling is pure; only `compile_file` and `load_directory` read files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from dsl.checks import duplicate_name_problems, plan_value_problems, provider_problems
from dsl.diagnostics import Diagnostic, Problem
from dsl.keep_compat import normalize_keep
from dsl.plan import WorkflowPlan
from dsl.plan_builder import build_plan
from dsl.runbook_compiler import compile_runbook
from dsl.runbook_plan import RunbookPlan
from dsl.spec import WorkflowDocument, WorkflowSpec
from dsl.spec_errors import validation_problems
from dsl.template_checks import reference_checks, syntax_problems
from dsl.triage_plan import TriageRulesPlan
from dsl.triage_rules import compile_triage
from dsl.yaml_source import LoadedYaml, Location, NodePath, SourceMap, YamlSyntaxError, load_yaml

WORKFLOW_SUFFIXES = (".yaml", ".yml")
_WRAPPER = "workflow"
_RUNBOOK = "runbook"
_TRIAGE = "triage"
_FIRST_CHARACTER = Location(1, 1)


@dataclass(frozen=True)
class CompileResult:
    file: str
    plan: WorkflowPlan | None  # None when there is any error, and for a runbook file
    diagnostics: list[Diagnostic] = field(default_factory=list)
    is_runbook: bool = False  # a `runbook:` file: its plan is in `runbook`
    # Where the workflow or runbook id is written; the `triage:` key of triage rules.
    id_location: Location = _FIRST_CHARACTER
    runbook: RunbookPlan | None = None  # a runbook file without errors
    is_triage: bool = False  # a `triage:` file: its plan is in `triage`
    triage: TriageRulesPlan | None = None  # a triage file without errors

    @property
    def kind(self) -> str:
        if self.is_triage:
            return "triage rules"
        return "runbook" if self.is_runbook else "workflow"

    @property
    def definition_id(self) -> str | None:
        """The id of the compiled workflow or runbook; None when it has errors, and for
        triage rules (which have no id)."""
        compiled = self.runbook if self.is_runbook else self.plan
        return compiled.id if compiled is not None else None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def compile_file(path: Path) -> CompileResult:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return _failed(str(path), _FIRST_CHARACTER, f"cannot read file: {error}")
    return compile_text(text, str(path))


def load_directory(directory: Path) -> list[CompileResult]:
    """Every workflow, runbook and triage file in `directory`, ids unique across all of
    them, and one triage file at most."""
    return check_unique_ids([compile_file(path) for path in workflow_files(directory)])


def workflow_files(directory: Path) -> list[Path]:
    """The *.yaml and *.yml files directly in `directory`, sorted by name."""
    return sorted(p for p in directory.iterdir() if p.is_file() and _is_yaml(p))


def check_unique_ids(results: Iterable[CompileResult]) -> list[CompileResult]:
    """The second file with an id already used gets an error naming the first, and so
    does every triage file after the first (the first one's rules apply).

    Workflows and runbooks share one id space (both name Temporal workflow runs).
    """
    first: dict[str, CompileResult] = {}
    triage: CompileResult | None = None
    checked = []
    for result in results:
        definition_id = result.definition_id
        if result.is_triage and triage is not None:
            result = _second_triage(result, triage)
        elif result.is_triage:
            triage = result
        elif definition_id is not None and definition_id in first:
            result = _duplicate(result, definition_id, first[definition_id])
        elif definition_id is not None:
            first[definition_id] = result
        checked.append(result)
    return checked


def _second_triage(result: CompileResult, first: CompileResult) -> CompileResult:
    message = (
        f"a second triage rules file: the rules in {first.file} apply and this file is "
        "ignored; keep every triage rule in one file"
    )
    error = _diagnostic_at(result.file, result.id_location, message)
    return replace(result, triage=None, diagnostics=[*result.diagnostics, error])


def _duplicate(result: CompileResult, definition_id: str, first: CompileResult) -> CompileResult:
    message = f"duplicate {result.kind} id '{definition_id}': already defined in {first.file}"
    if first.kind != result.kind:
        message += f" (a {first.kind}); ids must be unique across workflows and runbooks"
    error = _diagnostic_at(result.file, result.id_location, message)
    return replace(result, plan=None, runbook=None, diagnostics=[*result.diagnostics, error])


def compile_text(text: str, filename: str) -> CompileResult:
    try:
        loaded = load_yaml(text)
    except YamlSyntaxError as error:
        return _failed(filename, error.location, error.message)
    data = loaded.data
    if not isinstance(data, Mapping):
        found = "an empty file" if data is None else f"a {type(data).__name__}"
        return _failed(filename, _FIRST_CHARACTER, f"expected a 'workflow:' mapping, got {found}")
    if _RUNBOOK in data:
        return _runbook_result(filename, loaded)
    if _TRIAGE in data:
        return _triage_result(filename, loaded)
    return _Compilation(filename, loaded).run()


def _runbook_result(filename: str, loaded: LoadedYaml) -> CompileResult:
    compiled = compile_runbook(loaded, filename)
    diagnostics = [_diagnostic(filename, loaded.source, p) for p in compiled.problems]
    return CompileResult(
        filename,
        None,
        sorted(diagnostics, key=lambda d: (d.line, d.col)),
        is_runbook=True,
        id_location=loaded.source.locate(compiled.id_path),
        runbook=compiled.plan,
    )


def _triage_result(filename: str, loaded: LoadedYaml) -> CompileResult:
    compiled = compile_triage(loaded, filename)
    diagnostics = [_diagnostic(filename, loaded.source, p) for p in compiled.problems]
    return CompileResult(
        filename,
        None,
        sorted(diagnostics, key=lambda d: (d.line, d.col)),
        is_triage=True,
        id_location=loaded.source.locate((_TRIAGE,), at_key=True),
        triage=compiled.plan,
    )


class _Compilation:
    def __init__(self, filename: str, loaded: LoadedYaml) -> None:
        self.filename = filename
        self.data: Mapping[str, Any] = loaded.data
        self.root: NodePath = (_WRAPPER,) if _WRAPPER in self.data else ()
        self.source = loaded.source
        self.problems: list[Problem] = [
            Problem(d.path, f"duplicate key '{d.path[-1]}': the later value wins", "warning", True)
            for d in loaded.duplicate_keys
        ]

    def run(self) -> CompileResult:
        self.problems += syntax_problems(self.data, self.root)
        spec = self._validated()
        plan = None
        if spec is not None:
            self._check(spec)
            if not any(p.severity == "error" for p in self.problems):
                plan = build_plan(spec, self.filename, self._step_lines(spec))
        return CompileResult(
            self.filename,
            plan,
            self._diagnostics(),
            id_location=self.source.locate((*self.root, "id")),
        )

    def _validated(self) -> WorkflowSpec | None:
        body = self.data[_WRAPPER] if self.root else self.data
        normalized = normalize_keep(body, self.root)
        self.source = self.source.with_moves(normalized.moved)
        self.problems += [
            Problem(path, "enrich_incident is given both on the step and in provider.with")
            for path in normalized.clashes
        ]
        document = {**self.data, _WRAPPER: normalized.body} if self.root else normalized.body
        try:
            if self.root:
                return WorkflowDocument.model_validate(document).workflow
            return WorkflowSpec.model_validate(document)
        except ValidationError as error:
            model: type[BaseModel] = WorkflowDocument if self.root else WorkflowSpec
            self.problems += validation_problems(error, self.source, model)
            return None

    def _check(self, spec: WorkflowSpec) -> None:
        self.problems += duplicate_name_problems(spec, self.root)
        for located in spec.located_steps():
            self.problems += provider_problems(located, self.root)
        self.problems += reference_checks(spec, self.root, self.source)
        self.problems += plan_value_problems(spec, self.root)

    def _step_lines(self, spec: WorkflowSpec) -> dict[tuple[str, int], int]:
        return {
            located.path: self.source.locate((*self.root, *located.path)).line
            for located in spec.located_steps()
        }

    def _diagnostics(self) -> list[Diagnostic]:
        diagnostics = [_diagnostic(self.filename, self.source, p) for p in self.problems]
        return sorted(diagnostics, key=lambda d: (d.line, d.col))


def _diagnostic(filename: str, source: SourceMap, problem: Problem) -> Diagnostic:
    if problem.template_line is not None:
        location = source.text_location(problem.path, problem.template_line)
    else:
        location = source.locate(problem.path, at_key=problem.at_key)
    return _diagnostic_at(filename, location, problem.message, problem.severity)


def _diagnostic_at(
    filename: str, location: Location, message: str, severity: str = "error"
) -> Diagnostic:
    return Diagnostic(filename, location.line, location.col, message, severity)


def _failed(filename: str, location: Location, message: str) -> CompileResult:
    return CompileResult(filename, None, [_diagnostic_at(filename, location, message)])


def _is_yaml(path: Path) -> bool:
    return path.suffix.lower() in WORKFLOW_SUFFIXES
