"""Is an incident a false positive? The triage rules applied to it and to what its past says.

Pure: the caller reads the facts (earlier alerts like it, open duplicates, maintenance)
and passes them in. Every rule that applies is one piece of signed evidence with its
reason in words; they add up on a log-odds scale, so two independent rules at 0.8 say
more than either alone, and a rule for "real" pulls the other way (DESIGN §12).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from dsl.triage_plan import (
    FIELD_CONDITIONS,
    Fired,
    PatternCondition,
    ResolvedBySource,
    TriageRulePlan,
    TriageRulesPlan,
    spelled_duration,
)

FALSE_POSITIVE_AT = 0.6  # p(false positive) at or above: a false positive
TRUE_POSITIVE_AT = 0.4  # at or below: a real incident; in between: uncertain
NO_RULE_APPLIES = "no triage rule applies: treated as real until a person says otherwise"
CORRELATION_KEY = "correlation_key"

ClassifiedVerdict = Literal["false_positive", "true_positive", "uncertain"]

_SHOWN_CHARACTERS = 80
_SHOWN_DUPLICATES = 3


@dataclass(frozen=True)
class PastAlert:
    """An earlier incident of the same alert (same correlation key, else same title)."""

    created_at: datetime
    resolved_at: datetime | None
    resolved_by_source: bool  # resolved by its monitoring source, not by a person


@dataclass(frozen=True)
class IncidentFacts:
    now: datetime
    past: tuple[PastAlert, ...]  # up to 7 days back, this incident excluded
    open_duplicates: tuple[str, ...]  # ids of other OPEN incidents with its correlation key
    maintenance: str | None  # the window's description when inside one, else None


@dataclass(frozen=True)
class Evidence:
    rule_id: str  # a rule's id, or the voter's name (learned, llm)
    verdict: str  # false_positive | true_positive
    confidence: float
    reason: str
    vote: bool = False  # from the learned classifier or an LLM, not a rule


@dataclass(frozen=True)
class Classification:
    verdict: ClassifiedVerdict
    confidence: float  # of the verdict, 0.5 to 1
    p_false_positive: float
    reasons: list[str]
    evidence: list[Evidence]


def fingerprint_of(incident: Mapping[str, Any]) -> tuple[str, str]:
    """How to find earlier alerts like this one: ("correlation_key", its first key) when
    it has one, else ("title", its title)."""
    keys = [key for key in incident.get("correlation_keys") or [] if isinstance(key, str) and key]
    if keys:
        return CORRELATION_KEY, keys[0]
    return "title", str(incident.get("title") or "")


def classify(
    rules: TriageRulesPlan | None,
    incident: Mapping[str, Any],
    facts: IncidentFacts,
    votes: Sequence[Evidence] = (),
    notes: Sequence[str] = (),
) -> Classification:
    """`votes`: evidence from beyond the rules (learned, LLM); `notes`: why a source gave
    none. Both are added to the reasons."""
    evidence = [
        found
        for rule in (rules.rules if rules is not None else ())
        if (found := _evidence(rule, incident, facts)) is not None
    ] + list(votes)
    if not evidence:
        return Classification("uncertain", 0.5, 0.5, [NO_RULE_APPLIES, *notes], [])
    p = round(_sigmoid(sum(_signed_log_odds(e) for e in evidence)), 4)
    verdict = _verdict(p)
    reasons = [e.reason for e in evidence] + list(notes)
    if verdict == "uncertain":
        reasons.append(
            f"together the rules leave it uncertain ({p:.0%} likely a false positive): "
            "treated as real until a person says otherwise"
        )
    return Classification(verdict, round(max(p, 1 - p), 4), p, reasons, evidence)


def closes(result: Classification, threshold: float) -> bool:
    """A false positive sure enough to close, and a rule says so: a vote (learned, LLM)
    adds weight but never closes alone (bench/triage_quality.py measures why)."""
    return (
        result.verdict == "false_positive"
        and result.confidence >= threshold
        and any(e.verdict == "false_positive" and not e.vote for e in result.evidence)
    )


def _verdict(p_false_positive: float) -> ClassifiedVerdict:
    if p_false_positive >= FALSE_POSITIVE_AT:
        return "false_positive"
    if p_false_positive <= TRUE_POSITIVE_AT:
        return "true_positive"
    return "uncertain"


def _signed_log_odds(evidence: Evidence) -> float:
    log_odds = math.log(evidence.confidence / (1 - evidence.confidence))
    return log_odds if evidence.verdict == "false_positive" else -log_odds


def _sigmoid(x: float) -> float:
    # Written both ways so that no number of rules overflows math.exp.
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    return math.exp(x) / (1 + math.exp(x))


# --- one rule ---------------------------------------------------------------------------


def _evidence(
    rule: TriageRulePlan, incident: Mapping[str, Any], facts: IncidentFacts
) -> Evidence | None:
    """The rule's evidence when every one of its conditions holds, else None."""
    phrases = [_pattern_holds(condition, incident) for condition in rule.patterns]
    if rule.resolved_by_source is not None:
        phrases.append(_resolved_by_source(rule.resolved_by_source, facts))
    if rule.fired is not None:
        phrases.append(_fired(rule.fired, facts))
    if rule.duplicate_of_open:
        phrases.append(_duplicate(facts.open_duplicates))
    if rule.in_maintenance:
        phrases.append(_maintenance(facts.maintenance))
    if not phrases or any(phrase is None for phrase in phrases):
        return None
    says = "a false positive" if rule.verdict == "false_positive" else "a real incident"
    reason = (
        f"{' and '.join(p for p in phrases if p)} "
        f"(rule {rule.id}: {says}, confidence {rule.confidence:g})"
    )
    return Evidence(rule.id, rule.verdict, rule.confidence, reason)


def _pattern_holds(condition: PatternCondition, incident: Mapping[str, Any]) -> str | None:
    pattern = condition.pattern
    if condition.field in FIELD_CONDITIONS:
        value = incident.get(condition.field)
        if value is None or not re.fullmatch(pattern, str(value)):
            return None
        return f"its {_label(condition.field)} '{_shown(str(value))}' matches '{pattern}'"
    tags = _tags(incident)
    if condition.field == "tag":
        tag = next((tag for tag in tags if re.fullmatch(pattern, tag)), None)
        return None if tag is None else f"its tag '{tag}' matches '{pattern}'"
    return _text_holds(pattern, incident, tags)


def _text_holds(pattern: str, incident: Mapping[str, Any], tags: Sequence[str]) -> str | None:
    places = [(name, incident.get(name)) for name in ("title", "description")]
    places += [(f"tag '{tag}'", tag) for tag in tags]
    for where, text in places:
        found = re.search(pattern, text) if isinstance(text, str) else None
        if found is not None:
            return f"its {where} says '{_shown(found.group(0))}'"
    return None


def _resolved_by_source(condition: ResolvedBySource, facts: IncidentFacts) -> str | None:
    since = _utc(facts.now) - timedelta(seconds=condition.within_seconds)
    quickly = timedelta(seconds=condition.resolved_within_seconds)
    count = sum(
        1
        for alert in facts.past
        if alert.resolved_by_source
        and alert.resolved_at is not None
        and _utc(alert.created_at) >= since
        and _utc(alert.resolved_at) - _utc(alert.created_at) <= quickly
    )
    if count < condition.times_at_least:
        return None
    return (
        "alerts like it were resolved by their source within "
        f"{spelled_duration(condition.resolved_within_seconds)} {_times(count)} in the last "
        f"{spelled_duration(condition.within_seconds)}"
    )


def _fired(condition: Fired, facts: IncidentFacts) -> str | None:
    since = _utc(facts.now) - timedelta(seconds=condition.within_seconds)
    count = 1 + sum(1 for alert in facts.past if _utc(alert.created_at) >= since)
    if count < condition.times_at_least:
        return None
    return (
        f"fired {_times(count)} in the last {spelled_duration(condition.within_seconds)}, "
        "counting this one"
    )


def _duplicate(open_duplicates: Sequence[str]) -> str | None:
    if not open_duplicates:
        return None
    if len(open_duplicates) == 1:
        return f"duplicates the open incident {open_duplicates[0]} (same correlation key)"
    shown = ", ".join(open_duplicates[:_SHOWN_DUPLICATES])
    more = len(open_duplicates) - _SHOWN_DUPLICATES
    listed = f"{shown} and {more} more" if more > 0 else shown
    return (
        f"duplicates {len(open_duplicates)} open incidents with the same correlation key: {listed}"
    )


def _maintenance(window: str | None) -> str | None:
    return None if window is None else f"raised inside a maintenance window: {window}"


def _tags(incident: Mapping[str, Any]) -> list[str]:
    return [str(tag) for tag in incident.get("tags") or [] if tag is not None]


def _label(field: str) -> str:
    return field.replace("_", " ")


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SHOWN_CHARACTERS else flat[: _SHOWN_CHARACTERS - 1] + "…"


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _utc(moment: datetime) -> datetime:
    # The store hands back naive datetimes from SQLite; they are UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
