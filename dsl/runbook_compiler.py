"""Runbook YAML -> validated spec -> frozen RunbookPlan, every problem at a YAML path.

`dsl.compiler.compile_text` sends files with a top-level `runbook:` key here and turns
the problems into file:line:col diagnostics, as it does for workflows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from types import UnionType
from typing import Any, Union, get_args, get_origin

from jinja2 import TemplateSyntaxError, nodes
from jinja2.meta import find_undeclared_variables
from pydantic import BaseModel, ValidationError

from dsl.checks import connection_name, provider_problems
from dsl.diagnostics import Problem
from dsl.jinja_env import TEMPLATE_GLOBALS, is_template, parsed
from dsl.plan import InputPlan, ProviderPlan, RetryPlan
from dsl.providers import provider_type
from dsl.runbook_plan import (
    COMMAND_RESULT_FIELDS,
    DEFAULT_APPROVAL,
    DEFAULT_OUTPUT_LIMIT,
    NO_RETRY,
    PROVIDER_RESULT_FIELDS,
    TARGET_FIELDS,
    ApprovalPlan,
    ExpectPlan,
    MatchPlan,
    RollbackPlan,
    RunbookPlan,
    RunbookStepPlan,
    with_runbook_hash,
)
from dsl.runbook_spec import (
    PHASE_LISTS,
    ApprovalSpec,
    LocatedRunbookStep,
    RollbackSpec,
    RunbookDocument,
    RunbookSpec,
    did_you_mean,
)
from dsl.shell import (
    RAW_WARNING,
    command_syntax_problem,
    parsed_command,
    quoting_problems,
    raw_uses,
)
from dsl.spec import LocatedStep, ProviderSpec, RetrySpec, StepSpec
from dsl.spec_errors import display_path, validation_problems
from dsl.template_analysis import syntax_problem
from dsl.template_checks import iter_strings
from dsl.yaml_source import LoadedYaml, NodePath, SourceMap

ROOT: NodePath = ("runbook",)
ID_PATH: NodePath = (*ROOT, "id")
RUN_NAMES = frozenset({"incident", "steps", "target", "inputs", "consts"})
TARGET_NAMES = frozenset({"incident", "inputs", "consts"})

_UNKNOWN_FIELD = re.compile(r"unknown field '([^']+)'(?: \(allowed: [^)]*\))?$")
_STAND_IN = "\x00runbook-step"  # the name of the workflow step used to reuse provider checks


@dataclass(frozen=True)
class RunbookCompilation:
    plan: RunbookPlan | None  # None when there is any error
    problems: list[Problem]
    id_path: NodePath = ID_PATH


def compile_runbook(loaded: LoadedYaml, source_path: str) -> RunbookCompilation:
    """Compile the `runbook:` document in `loaded`; problems are paths in that document."""
    problems = [
        Problem(d.path, f"duplicate key '{d.path[-1]}': the later value wins", "warning", True)
        for d in loaded.duplicate_keys
    ]
    problems += written_template_problems(loaded.data.get("runbook"))
    spec, invalid = _validated(loaded.data, loaded.source)
    problems += invalid
    if spec is None:
        return RunbookCompilation(None, problems)
    problems += runbook_problems(spec)
    if any(p.severity == "error" for p in problems):
        return RunbookCompilation(None, problems)
    return RunbookCompilation(build_runbook_plan(spec, source_path, loaded.source), problems)


def _validated(data: Any, source: SourceMap) -> tuple[RunbookSpec | None, list[Problem]]:
    try:
        return RunbookDocument.model_validate(data).runbook, []
    except ValidationError as error:
        problems = validation_problems(error, source, RunbookDocument)
        return None, [replace(p, message=_reworded(p)) for p in problems]


def _reworded(problem: Problem) -> str:
    """Paths shown below `runbook`, and every unknown field with its closest spelling."""
    message = problem.message.removeprefix("runbook.")
    found = _UNKNOWN_FIELD.search(message)
    if found is None:
        return message
    allowed = fields_at(problem.path[:-1])
    hint = did_you_mean(found.group(1), allowed)
    listed = f" (allowed: {', '.join(allowed)})" if allowed else ""
    return f"{message[: found.start()]}unknown field '{found.group(1)}'{hint}{listed}"


def fields_at(path: NodePath) -> list[str]:
    """The keys allowed in the mapping at `path` of a runbook file, as they are written."""
    current: Any = RunbookDocument
    for segment in path:
        current = _optional_inner(current)
        if isinstance(segment, int):
            current = get_args(current)[0] if get_origin(current) is list else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            spellings = _spellings(current)
            current = (
                current.model_fields[spellings[segment]].annotation
                if segment in spellings
                else None
            )
        else:
            return []
    current = _optional_inner(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(_spellings(current))
    return []


def _optional_inner(annotation: Any) -> Any:
    members = [m for m in get_args(annotation) if m is not type(None)]
    is_optional = get_origin(annotation) in (Union, UnionType) and len(members) == 1
    return members[0] if is_optional else annotation


def _spellings(model: type[BaseModel]) -> dict[str, str]:
    return {
        alias if isinstance(alias := info.validation_alias, str) else name: name
        for name, info in model.model_fields.items()
    }


# --- templates as written (before validation) ----------------------------------------


def written_template_problems(body: Any) -> list[Problem]:
    """Syntax of every rendered template, and shell quoting of every command."""
    if not isinstance(body, Mapping):
        return []
    target = body.get("target")
    problems = []
    if isinstance(target, Mapping) and isinstance(target.get("connection"), str):
        problems += _syntax((*ROOT, "target", "connection"), target["connection"], "")
    for phase, path, step in _written_steps(body):
        label = f"{phase} '{step.get('name', '<unnamed>')}': "
        problems += _written_action_problems(step, path, label)
        rollback = step.get("rollback")
        if isinstance(rollback, str):
            problems += _command_problems((*path, "rollback"), rollback, label)
        elif isinstance(rollback, Mapping):
            problems += _written_action_problems(rollback, (*path, "rollback"), label)
    return problems


def _written_steps(body: Mapping[str, Any]) -> Iterator[tuple[str, NodePath, Mapping[str, Any]]]:
    for list_name, phase in PHASE_LISTS:
        steps = body.get(list_name)
        if isinstance(steps, list):
            for index, step in enumerate(steps):
                if isinstance(step, Mapping):
                    yield phase, (*ROOT, list_name, index), step


def _written_action_problems(
    action: Mapping[str, Any], path: NodePath, label: str
) -> list[Problem]:
    problems = []
    if isinstance(action.get("run"), str):
        problems += _command_problems((*path, "run"), action["run"], label)
    provider = action.get("provider")
    if isinstance(provider, Mapping):
        for string_path, text in iter_strings(dict(provider), (*path, "provider")):
            problems += _syntax(string_path, text, label)
    return problems


def _syntax(path: NodePath, text: str, label: str) -> list[Problem]:
    problem = syntax_problem(text) if is_template(text) else None
    if problem is None:
        return []
    message = f"{label}template syntax error in {_field(path)}: {problem.message}"
    return [Problem(path, message, template_line=problem.line)]


def _command_problems(path: NodePath, command: str, label: str) -> list[Problem]:
    field = _field(path)
    problem = command_syntax_problem(command)
    if problem is not None:
        message = f"{label}template syntax error in {field}: {problem.message}"
        return [Problem(path, message, template_line=problem.line)]
    problems = [
        Problem(path, f"{label}{field}: {found.message}", template_line=found.line)
        for found in quoting_problems(command)
    ]
    problems += [
        Problem(path, f"{label}{field}: {RAW_WARNING}", "warning", template_line=line)
        for line in raw_uses(command)
    ]
    return problems


def _field(path: NodePath) -> str:
    """The part of a path below its step: ("runbook", "steps", 0, "rollback", "run")."""
    if len(path) > 3 and path[1] in ("prechecks", "steps", "postchecks"):
        return display_path(path[3:])
    return display_path(path[1:])


# --- whole-runbook checks ---------------------------------------------------------------


def runbook_problems(spec: RunbookSpec) -> list[Problem]:
    located = spec.located_steps()
    problems = _duplicate_names(located)
    context = _Context.of(spec, located)
    if spec.target is not None:
        path = (*ROOT, "target", "connection")
        problems += context.template(spec.target.connection, path, None, TARGET_NAMES)
    for step in located:
        problems += _phase_problems(step)
        problems += _step_problems(step, context)
    problems += _unsafe_values(spec.consts, (*ROOT, "consts"))
    for index, item in enumerate(spec.inputs):
        problems += _unsafe_values(item.default, (*ROOT, "inputs", index, "default"))
    return problems


def _duplicate_names(located: list[LocatedRunbookStep]) -> list[Problem]:
    first: dict[str, LocatedRunbookStep] = {}
    problems = []
    for step in located:
        earlier = first.setdefault(step.spec.name, step)
        if earlier is not step:
            message = (
                f"duplicate name '{step.spec.name}': already used by {earlier.label}; "
                "names must be unique across prechecks, steps and postchecks"
            )
            problems.append(Problem((*ROOT, *step.path, "name"), message))
    return problems


def _phase_problems(step: LocatedRunbookStep) -> list[Problem]:
    if step.phase == "step":
        return []
    base = (*ROOT, *step.path)
    why = (
        "a precheck runs before anything changed"
        if step.phase == "precheck"
        else ("a postcheck only verifies the result")
    )
    given = [key for key in ("rollback", "requires_approval") if key in step.spec.model_fields_set]
    return [
        Problem((*base, key), f"{step.label}: {key} only applies to steps: {why}", at_key=True)
        for key in given
    ]


def _step_problems(step: LocatedRunbookStep, context: _Context) -> list[Problem]:
    spec = step.spec
    base = (*ROOT, *step.path)
    problems = _retry_problems(spec.retry, spec.idempotent, base, step.label)
    problems += context.action(spec.run, spec.provider, spec.connector, base, step)
    rollback = spec.rollback
    if rollback is not None:
        problems += context.action(
            rollback.run,
            rollback.provider,
            rollback.connector or spec.connector,
            (*base, "rollback"),
            step,
            rollback=True,
            # A command rollback on the step's connector shares the step's target problem.
            check_target=spec.run is None or rollback.connector is not None,
        )
    return problems


def _retry_problems(
    retry: RetrySpec | None, idempotent: bool, base: NodePath, label: str
) -> list[Problem]:
    if retry is None or retry.maximum_attempts == 1 or idempotent:
        return []
    message = (
        f"{label}: retry.maximum_attempts {retry.maximum_attempts} would run it again after a "
        "failure; mark the step idempotent: true if that is safe, or drop the retry"
    )
    return [Problem((*base, "retry", "maximum_attempts"), message)]


@dataclass(frozen=True)
class _Reads:
    """What a template reads: top-level names, `name.key` members, `steps.X.field`."""

    names: Mapping[str, int]
    members: Mapping[tuple[str, str], int]
    step_fields: Mapping[tuple[str, str], int]


@dataclass(frozen=True)
class _Context:
    spec: RunbookSpec
    positions: Mapping[str, int]
    steps: Mapping[str, LocatedRunbookStep]

    @classmethod
    def of(cls, spec: RunbookSpec, located: list[LocatedRunbookStep]) -> _Context:
        positions: dict[str, int] = {}
        steps: dict[str, LocatedRunbookStep] = {}
        for position, step in enumerate(located):
            positions.setdefault(step.spec.name, position)
            steps.setdefault(step.spec.name, step)
        return cls(spec, positions, steps)

    def action(
        self,
        run: str | None,
        provider: ProviderSpec | None,
        connector: str | None,
        base: NodePath,
        owner: LocatedRunbookStep,
        *,
        rollback: bool = False,
        check_target: bool = True,
    ) -> list[Problem]:
        label = f"{owner.label} rollback" if rollback else owner.label
        if run is not None:
            path = (*base, "run")
            problems = self._target_problems(connector, path, label) if check_target else []
            return problems + self.template(run, path, owner, RUN_NAMES, rollback, command=True)
        if provider is None:
            return []
        problems = _provider_call_problems(provider, (*base, "provider"), label)
        for path, text in iter_strings(provider.with_, (*base, "provider", "with")):
            problems += self.template(text, path, owner, RUN_NAMES, rollback)
        problems += _unsafe_values(provider.with_, (*base, "provider", "with"))
        return problems

    def _target_problems(self, connector: str | None, path: NodePath, label: str) -> list[Problem]:
        if self.spec.target is not None or connector == "local":
            return []
        message = (
            f"{label}: runs a command but the runbook has no target; add "
            'target: {connection: "..."} or run it on the worker with connector: local'
        )
        return [Problem(path, message)]

    def template(
        self,
        text: str,
        path: NodePath,
        owner: LocatedRunbookStep | None,
        allowed: frozenset[str],
        rollback: bool = False,
        *,
        command: bool = False,
    ) -> list[Problem]:
        reads = _reads(text, command=command)
        if reads is None:
            return []  # not a template, or a syntax error (reported already)
        if owner is None:
            prefix = "target.connection: "
        else:
            prefix = f"{owner.label} rollback: " if rollback else f"{owner.label}: "
        found = [(line, self._name(name, allowed, owner)) for name, line in reads.names.items()]
        found += [(line, self._member(base, key)) for (base, key), line in reads.members.items()]
        if owner is not None and "steps" in allowed:
            found += [
                (line, self._step_field(name, field, owner, rollback))
                for (name, field), line in reads.step_fields.items()
            ]
        return [
            Problem(path, prefix + message, template_line=line)
            for line, message in found
            if message
        ]

    def _name(self, name: str, allowed: frozenset[str], owner: LocatedRunbookStep | None) -> str:
        if name in allowed or name in TEMPLATE_GLOBALS:
            if name == "target" and self.spec.target is None:
                return "'target' is only defined when the runbook has target: {connection: ...}"
            return ""
        if owner is None and name in RUN_NAMES:
            return f"'{name}' is not available here: the target is resolved before any step runs"
        if name == "providers":
            return "'providers' may only be used as a provider's config: \"{{ providers.NAME }}\""
        if name == "results":
            return "'results' is not available in a runbook: read steps.<name>.results instead"
        choices = sorted(allowed)
        hint = did_you_mean(name, choices)
        return (
            f"unknown name '{name}' in template{hint} (allowed: {', '.join(choices)}, has(), now())"
        )

    def _member(self, base: str, key: str) -> str:
        if base == "inputs":
            return _listed("input", key, [item.name for item in self.spec.inputs])
        if base == "consts":
            return _listed("const", key, list(self.spec.consts))
        if base == "target" and key not in TARGET_FIELDS:
            return f"target has no field '{key}'{did_you_mean(key, TARGET_FIELDS)} " + (
                f"(fields: {', '.join(TARGET_FIELDS)})"
            )
        if base == "steps":
            return self._step_name(key)
        return ""

    def _step_name(self, name: str) -> str:
        if name in self.positions:
            return ""
        known = list(self.positions)
        return f"unknown step '{name}'{did_you_mean(name, known)} (known: {', '.join(known)})"

    def _step_field(self, name: str, field: str, owner: LocatedRunbookStep, rollback: bool) -> str:
        referenced = self.steps.get(name)
        if referenced is None:
            return ""  # reported as an unknown step
        order = self._order_problem(referenced, owner, rollback)
        if order:
            return order
        command = referenced.spec.run is not None
        fields = COMMAND_RESULT_FIELDS if command else PROVIDER_RESULT_FIELDS
        if field in fields:
            return ""
        kind = "a command" if command else "a provider call"
        hint = did_you_mean(field, fields)
        return f"{referenced.label} is {kind}: steps.{name} has no '{field}'{hint} " + (
            f"(fields: {', '.join(fields)})"
        )

    def _order_problem(
        self, referenced: LocatedRunbookStep, owner: LocatedRunbookStep, rollback: bool
    ) -> str:
        name = referenced.spec.name
        if referenced is owner and rollback:
            return (
                f"cannot read steps.{name}: a rollback also runs when '{name}' failed or "
                "timed out, before it produced output"
            )
        if referenced is owner:
            return "references itself: its output exists only after it ran"
        if self.positions[name] > self.positions[owner.spec.name]:
            return f"references {referenced.label}, which runs after it"
        return ""


def _listed(kind: str, key: str, declared: list[str]) -> str:
    if key in declared:
        return ""
    known = ", ".join(declared) or "none"
    return f"unknown {kind} '{key}'{did_you_mean(key, declared)} (declared: {known})"


def _reads(text: str, *, command: bool) -> _Reads | None:
    if not is_template(text):
        return None
    try:
        tree = parsed_command(text) if command else parsed(text)
        undeclared = find_undeclared_variables(tree)
    except TemplateSyntaxError:
        return None
    names: dict[str, int] = {}
    for name_node in tree.find_all(nodes.Name):
        if name_node.name in undeclared:
            names.setdefault(name_node.name, name_node.lineno)
    members: dict[tuple[str, str], int] = {}
    step_fields: dict[tuple[str, str], int] = {}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        member = _member_of(node)
        if member is None:
            continue
        owner, key = member
        if isinstance(owner, nodes.Name) and owner.name in undeclared:
            members.setdefault((owner.name, key), node.lineno)
        elif (step := _member_of(owner)) is not None and _is_name(step[0], "steps", undeclared):
            step_fields.setdefault((step[1], key), node.lineno)
    return _Reads(names, members, step_fields)


def _member_of(node: nodes.Node) -> tuple[nodes.Node, str] | None:
    """`owner.key` or `owner['key']` -> (owner, key)."""
    if isinstance(node, nodes.Getattr):
        return node.node, node.attr
    if not isinstance(node, nodes.Getitem) or not isinstance(node.arg, nodes.Const):
        return None
    return (node.node, node.arg.value) if isinstance(node.arg.value, str) else None


def _is_name(node: nodes.Node, name: str, undeclared: set[str]) -> bool:
    return isinstance(node, nodes.Name) and node.name == name and name in undeclared


def _provider_call_problems(provider: ProviderSpec, base: NodePath, label: str) -> list[Problem]:
    """The workflow provider checks (type, config, parameters) on a runbook's call."""
    stand_in = LocatedStep("step", ("steps", 0), StepSpec(name=_STAND_IN, provider=provider))
    stand_in_prefix = f"{stand_in.label}: "
    written = len(("steps", 0, "provider"))
    return [
        replace(
            problem,
            path=(*base, *problem.path[written:]),
            message=f"{label}: {problem.message.removeprefix(stand_in_prefix)}",
        )
        for problem in provider_problems(stand_in, ())
    ]


def _unsafe_values(value: Any, path: NodePath) -> list[Problem]:
    """Values a plan cannot carry through JSON unchanged (YAML dates, sets, binary)."""
    if isinstance(value, Mapping):
        return [p for key, item in value.items() for p in _unsafe_values(item, (*path, key))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _unsafe_values(item, (*path, index))]
    if value is None or isinstance(value, str | int | float | bool):
        return []
    what = "a date" if isinstance(value, date) else f"a {type(value).__name__}"
    return [Problem(path, f"YAML reads this value as {what}; quote it to keep it as text")]


# --- plan -------------------------------------------------------------------------------


def build_runbook_plan(spec: RunbookSpec, source_path: str, source: SourceMap) -> RunbookPlan:
    """The plan of a spec that passed every check; `source` gives each step its line."""
    steps = [_step_plan(step, source) for step in spec.located_steps()]
    plan = RunbookPlan(
        id=spec.id,
        name=spec.display_name,
        description=spec.description or "",
        source_path=source_path,
        match=MatchPlan(
            keywords=tuple(dict.fromkeys(spec.match.keywords)),
            services=tuple(dict.fromkeys(spec.match.services)),
            severities=tuple(dict.fromkeys(spec.match.severities)),
        ),
        target_connection=spec.target.connection if spec.target else None,
        approval=_approval_plan(spec.approval),
        inputs=tuple(InputPlan(**item.model_dump()) for item in spec.inputs),
        consts=dict(spec.consts),
        prechecks=tuple(s for s in steps if s.phase == "precheck"),
        steps=tuple(s for s in steps if s.phase == "step"),
        postchecks=tuple(s for s in steps if s.phase == "postcheck"),
        escalation_group=spec.escalation_group,
    )
    return with_runbook_hash(plan)


def _approval_plan(approval: ApprovalSpec | None) -> ApprovalPlan:
    if approval is None:
        return DEFAULT_APPROVAL
    escalates = approval.on_timeout == "escalate"
    return ApprovalPlan(
        roles=tuple(dict.fromkeys(approval.roles)),
        timeout_seconds=approval.timeout,
        on_timeout=approval.on_timeout,
        escalate_to=tuple(dict.fromkeys(approval.escalate_to)),
        escalation_timeout_seconds=(approval.escalation_timeout or approval.timeout)
        if escalates
        else None,
    )


def _step_plan(located: LocatedRunbookStep, source: SourceMap) -> RunbookStepPlan:
    step = located.spec
    path = (*ROOT, *located.path)
    expect = step.expect
    return RunbookStepPlan(
        name=step.name,
        phase=located.phase,
        run=step.run,
        provider=_provider_plan(step.provider) if step.provider else None,
        connector=step.connector,
        requires_approval=step.requires_approval,
        idempotent=step.idempotent,
        rollback=_rollback_plan(
            step.rollback, step.timeout, source.locate((*path, "rollback")).line
        )
        if step.rollback
        else None,
        timeout_seconds=step.timeout,
        retry=_retry_plan(step.retry) if step.retry else NO_RETRY,
        expect=ExpectPlan(
            exit_codes=tuple(dict.fromkeys(expect.exit_code)),
            stdout_contains=expect.stdout_contains,
            stdout_regex=expect.stdout_regex,
        )
        if expect
        else ExpectPlan(),
        output_limit=step.output_limit or DEFAULT_OUTPUT_LIMIT,
        line=source.locate(path).line,
    )


def _rollback_plan(rollback: RollbackSpec, step_timeout: float, line: int) -> RollbackPlan:
    return RollbackPlan(
        run=rollback.run,
        provider=_provider_plan(rollback.provider) if rollback.provider else None,
        connector=rollback.connector,
        timeout_seconds=rollback.timeout or step_timeout,
        retry=_retry_plan(rollback.retry),
        line=line,
    )


def _retry_plan(retry: RetrySpec) -> RetryPlan:
    return RetryPlan(
        maximum_attempts=retry.maximum_attempts,
        initial_interval_seconds=retry.initial_interval,
        backoff=retry.backoff,
        # The 60s default must not undercut a longer initial interval.
        maximum_interval_seconds=max(retry.maximum_interval, retry.initial_interval),
    )


def _provider_plan(provider: ProviderSpec) -> ProviderPlan:
    entry = provider_type(provider.type)
    params = entry.normalized(provider.with_) if entry else dict(provider.with_)
    connection = connection_name(provider.config) if provider.config else None
    return ProviderPlan(type=provider.type, connection=connection, params=params)
