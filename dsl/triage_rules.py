"""A `triage:` file -> validated rules -> frozen TriageRulesPlan, every problem at a YAML path.

The file states the org-wide rules that call an incident a false positive or a real one
(DESIGN §12); `services.triage_classify` applies them. Each rule has a verdict, how sure
it is alone, and a `when` whose conditions must all hold: patterns on the incident's
fields, and facts about its past (earlier alerts like it, open duplicates, maintenance).
`dsl.compiler.compile_text` sends files with a top-level `triage:` key here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from dsl.diagnostics import Problem
from dsl.durations import parse_duration
from dsl.runbook_plan import SEVERITIES
from dsl.runbook_spec import did_you_mean
from dsl.spec import Regex
from dsl.spec_errors import validation_problems
from dsl.triage_plan import (
    LOOKBACK_SECONDS,
    PATTERN_CONDITIONS,
    Fired,
    PatternCondition,
    ResolvedBySource,
    TriageRulePlan,
    TriageRulesPlan,
    Verdict,
    spelled_duration,
)
from dsl.yaml_source import LoadedYaml, NodePath, SourceMap

ROOT: NodePath = ("triage",)
RULE_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
_UNKNOWN_FIELD = re.compile(r"unknown field '([^']+)' \(allowed: ([^)]*)\)$")
# The keys that count something over `within`; times_at_least qualifies the first.
_COUNTING = ("resolved_by_source_within", "fired_at_least")

# --- what a file may contain ------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _rule_id(value: str) -> str:
    if not RULE_ID_PATTERN.fullmatch(value) or len(value) > 100:
        raise PydanticCustomError(
            "rule_id",
            "invalid rule id {value}: use lowercase letters, digits and '-' (at most 100)",
            {"value": repr(value)},
        )
    return value


def _confidence(value: float) -> float:
    if not 0.5 < value < 1:
        raise PydanticCustomError(
            "confidence",
            "must be above 0.5 and below 1 (how sure this rule alone is), got {value}",
            {"value": value},
        )
    return value


def _pattern(value: str) -> str:
    if not value:
        raise PydanticCustomError("empty_pattern", "must not be empty: write what must match")
    return value


def _seconds(value: object) -> float:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise PydanticCustomError("duration", str(error)) from error


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise PydanticCustomError("duration_bounds", "must be longer than 0s")
    return seconds


def _window(seconds: float) -> float:
    if not 0 < seconds <= LOOKBACK_SECONDS:
        raise PydanticCustomError(
            "duration_bounds",
            "must be longer than 0s and at most {most}: triage reads the last {most} of "
            "alerts, got {value}",
            {"most": spelled_duration(LOOKBACK_SECONDS), "value": spelled_duration(seconds)},
        )
    return seconds


def _at_least(low: int, why: str) -> Callable[[int], int]:
    def check(count: int) -> int:
        if count < low:
            raise PydanticCustomError(
                "count",
                "must be at least {low}{why}, got {count}",
                {"low": low, "why": why, "count": count},
            )
        return count

    return check


def _only_true(value: object) -> object:
    if value is not True:
        raise PydanticCustomError(
            "only_true",
            "only true is allowed, got {value}: leave the condition out when it does not matter",
            {"value": str(value).lower() if isinstance(value, bool) else repr(value)},
        )
    return value


def _some_rules(rules: list[RuleSpec]) -> list[RuleSpec]:
    if not rules:
        raise PydanticCustomError("no_rules", "needs at least one rule")
    return rules


Pattern = Annotated[Regex, AfterValidator(_pattern)]
Window = Annotated[float, BeforeValidator(_seconds), AfterValidator(_window)]
Resolved = Annotated[float, BeforeValidator(_seconds), AfterValidator(_positive)]
Times = Annotated[int, Field(strict=True), AfterValidator(_at_least(1, ""))]
Fires = Annotated[
    int, Field(strict=True), AfterValidator(_at_least(2, ": this alert is one of them"))
]
Flag = Annotated[bool, BeforeValidator(_only_true)]


class WhenSpec(_Strict):
    title: Pattern | None = None
    description: Pattern | None = None
    service: Pattern | None = None
    environment: Pattern | None = None
    severity: Pattern | None = None
    source_type: Pattern | None = None
    team: Pattern | None = None
    region: Pattern | None = None
    tag: Pattern | None = None
    text: Pattern | None = None
    resolved_by_source_within: Resolved | None = None
    times_at_least: Times | None = None
    fired_at_least: Fires | None = None
    within: Window | None = None
    duplicate_of_open: Flag = False
    in_maintenance: Flag = False


class RuleSpec(_Strict):
    id: Annotated[str, AfterValidator(_rule_id)]
    description: str | None = None
    verdict: Verdict
    confidence: Annotated[float, Field(strict=True), AfterValidator(_confidence)]
    when: WhenSpec


class TriageSpec(_Strict):
    rules: Annotated[list[RuleSpec], AfterValidator(_some_rules)]


class TriageDocument(_Strict):
    triage: TriageSpec


# --- compile ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageCompilation:
    plan: TriageRulesPlan | None  # None when there is any error
    problems: list[Problem]


def compile_triage(loaded: LoadedYaml, source_path: str) -> TriageCompilation:
    """Compile the `triage:` document in `loaded`; problems are paths in that document."""
    problems = [
        Problem(d.path, f"duplicate key '{d.path[-1]}': the later value wins", "warning", True)
        for d in loaded.duplicate_keys
    ]
    problems += written_problems(loaded.data.get("triage"))
    try:
        spec = TriageDocument.model_validate(loaded.data).triage
    except ValidationError as error:
        problems += [
            replace(p, message=_reworded(p.message))
            for p in validation_problems(error, loaded.source, TriageDocument)
        ]
        return TriageCompilation(None, problems)
    problems += _severity_warnings(spec)
    if any(p.severity == "error" for p in problems):
        return TriageCompilation(None, problems)
    return TriageCompilation(build_triage_plan(spec, source_path, loaded.source), problems)


def _reworded(message: str) -> str:
    """Paths shown below `triage`, and an unknown key with its closest spelling."""
    message = message.removeprefix("triage.")
    found = _UNKNOWN_FIELD.search(message)
    if found is None:
        return message
    key, allowed = found.groups()
    hint = did_you_mean(key, allowed.split(", "))
    return f"{message[: found.start()]}unknown field '{key}'{hint} (allowed: {allowed})"


# --- checks that need more than one key, on the file as written ----------------------------


def written_problems(body: Any) -> list[Problem]:
    """Repeated rule ids and conditions that need each other, at the key concerned.

    They run on the data as written, so they show beside the errors validation finds."""
    first: dict[str, int] = {}
    problems = []
    for index, rule in _written_rules(body):
        base = (*ROOT, "rules", index)
        rule_id = rule.get("id")
        if isinstance(rule_id, str) and first.setdefault(rule_id, index) != index:
            message = f"duplicate rule id '{rule_id}': already used by rules[{first[rule_id]}]"
            problems.append(Problem((*base, "id"), message))
        when = rule.get("when")
        if isinstance(when, Mapping):
            label = f"rule '{rule_id}'" if isinstance(rule_id, str) else f"rules[{index}]"
            problems += _when_problems(when, (*base, "when"), label)
    return problems


def _written_rules(body: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    rules = body.get("rules") if isinstance(body, Mapping) else None
    if isinstance(rules, list):
        for index, rule in enumerate(rules):
            if isinstance(rule, Mapping):
                yield index, rule


def _when_problems(when: Mapping[str, Any], path: NodePath, label: str) -> list[Problem]:
    if not when:
        conditions = ", ".join((*PATTERN_CONDITIONS, "resolved_by_source_within", "fired_at_least"))
        message = (
            f"{label}: when needs at least one condition, or the rule would call every "
            f"incident the same (conditions: {conditions}, duplicate_of_open, in_maintenance)"
        )
        return [Problem(path, message)]
    found = [_pairing(when, key) for key in when]
    return [Problem((*path, key), f"{label}: {why}", at_key=True) for key, why in found if why]


def _pairing(when: Mapping[str, Any], key: str) -> tuple[str, str]:
    """What `key` lacks from the keys it needs, or "" when it lacks nothing."""
    resolved = "resolved_by_source_within" in when
    counted = any(count in when for count in (*_COUNTING, "times_at_least"))
    if key == "times_at_least" and not resolved:
        why = (
            "times_at_least counts earlier alerts resolved by their source: add "
            "resolved_by_source_within (e.g. 5m), or use fired_at_least to count firings"
        )
    elif key == "resolved_by_source_within" and "times_at_least" not in when:
        why = "resolved_by_source_within needs times_at_least: how many such alerts it takes"
    elif key in _COUNTING and "within" not in when:
        why = f"{key} needs within: the window it counts in (e.g. 24h, at most 7d)"
    elif key == "within" and not counted:
        why = "within only applies with fired_at_least or resolved_by_source_within"
    else:
        why = ""
    return key, why


def _severity_warnings(spec: TriageSpec) -> list[Problem]:
    problems = []
    for index, rule in enumerate(spec.rules):
        pattern = rule.when.severity
        if pattern is not None and not any(re.fullmatch(pattern, s) for s in SEVERITIES):
            message = (
                f"rule '{rule.id}': severity '{pattern}' matches none of "
                f"{', '.join(SEVERITIES)} in full, so the rule never applies"
            )
            path = (*ROOT, "rules", index, "when", "severity")
            problems.append(Problem(path, message, "warning"))
    return problems


# --- plan -------------------------------------------------------------------------------


def build_triage_plan(spec: TriageSpec, source_path: str, source: SourceMap) -> TriageRulesPlan:
    """The plan of a spec that passed every check; `source` gives each rule its line."""
    rules = tuple(
        _rule_plan(rule, source.locate((*ROOT, "rules", index)).line)
        for index, rule in enumerate(spec.rules)
    )
    return TriageRulesPlan(rules=rules, source_path=source_path)


def _rule_plan(rule: RuleSpec, line: int) -> TriageRulePlan:
    when = rule.when
    patterns = tuple(
        PatternCondition(name, pattern)
        for name in PATTERN_CONDITIONS
        if (pattern := getattr(when, name)) is not None
    )
    resolved = None
    if when.resolved_by_source_within is not None:
        assert when.times_at_least is not None and when.within is not None  # checked as written
        resolved = ResolvedBySource(
            when.resolved_by_source_within, when.times_at_least, when.within
        )
    fired = None
    if when.fired_at_least is not None:
        assert when.within is not None  # checked as written
        fired = Fired(when.fired_at_least, when.within)
    return TriageRulePlan(
        id=rule.id,
        description=rule.description or "",
        verdict=rule.verdict,
        confidence=rule.confidence,
        line=line,
        patterns=patterns,
        resolved_by_source=resolved,
        fired=fired,
        duplicate_of_open=when.duplicate_of_open,
        in_maintenance=when.in_maintenance,
    )
