"""The frozen rules of a `triage:` file, which `services.triage_classify` applies.

Produced by `dsl.compiler.compile_text` / `compile_file` for a file with a top-level
`triage:` key (`dsl.triage_rules`). A rule applies when every one of its conditions holds;
each condition that is not given is None, empty or False.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Incident fields a rule's pattern must match in full; `tag` matches any one tag, `text`
# is searched in the title, the description and the tags.
FIELD_CONDITIONS = (
    "title",
    "description",
    "service",
    "environment",
    "severity",
    "source_type",
    "team",
    "region",
)
PATTERN_CONDITIONS = (*FIELD_CONDITIONS, "tag", "text")
# How far back triage reads earlier alerts (services.triage reads this many days).
LOOKBACK_SECONDS = 7 * 86400.0

Verdict = Literal["false_positive", "true_positive"]

_DURATION_UNITS = (("d", 86400), ("h", 3600), ("m", 60))


@dataclass(frozen=True)
class PatternCondition:
    field: str  # from PATTERN_CONDITIONS
    pattern: str


@dataclass(frozen=True)
class ResolvedBySource:
    """Earlier alerts like this one its source resolved within `resolved_within_seconds`,
    at least `times_at_least` of them in the last `within_seconds`."""

    resolved_within_seconds: float
    times_at_least: int
    within_seconds: float


@dataclass(frozen=True)
class Fired:
    """This alert fired at least `times_at_least` times (counting this one) in the window."""

    times_at_least: int
    within_seconds: float


@dataclass(frozen=True)
class TriageRulePlan:
    id: str
    description: str
    verdict: Verdict
    confidence: float  # above 0.5 and below 1
    line: int  # where the rule is written
    patterns: tuple[PatternCondition, ...] = ()
    resolved_by_source: ResolvedBySource | None = None
    fired: Fired | None = None
    duplicate_of_open: bool = False
    in_maintenance: bool = False


@dataclass(frozen=True)
class TriageRulesPlan:
    rules: tuple[TriageRulePlan, ...]
    source_path: str


def spelled_duration(seconds: float) -> str:
    """86400 -> "1d", 5400 -> "1h30m", 90 -> "1m30s": how an author would write it."""
    if seconds <= 0 or seconds != int(seconds):
        return f"{seconds:g}s"
    rest, parts = int(seconds), []
    for unit, size in _DURATION_UNITS:
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    if rest:
        parts.append(f"{rest}s")
    return "".join(parts)
