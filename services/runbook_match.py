"""How well a runbook fits an incident: a confidence from 0 to 1, and the reasons. Pure.

Each criterion the runbook's `match` states gives a score:

- `severities`: 1 when the incident's severity is listed, else 0;
- `services`: 1 when the incident's service equals one listed (any case), else 0;
- `keywords`: searched as whole words or phrases (any case, any spacing between the
  words of a phrase) in the incident's title, description and service: 1 when all of
  them are found or at least two, 0.5 when exactly one is, 0 when none is.

The confidence is the mean of the stated criteria's scores. A runbook with no criteria
fits any incident with 0.5: a generic runbook is never confident enough for auto mode
(threshold 0.8 by default) and always ranks below one made for the incident.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dsl.runbook_plan import MatchPlan

GENERIC_CONFIDENCE = 0.5
_SEARCHED_FIELDS = ("title", "description", "service")


@dataclass(frozen=True)
class MatchResult:
    confidence: float
    reasons: list[str]


@dataclass(frozen=True)
class _Score:
    value: float
    reason: str


def match_runbook(match: MatchPlan, incident: Mapping[str, Any]) -> MatchResult:
    """Score `incident` (a snapshot as a mapping) against the runbook's `match`."""
    scores = [
        score
        for score in (
            _severity_score(match.severities, incident.get("severity")),
            _service_score(match.services, incident.get("service")),
            _keyword_score(match.keywords, _searched_text(incident)),
        )
        if score is not None
    ]
    if not scores:
        return MatchResult(
            GENERIC_CONFIDENCE,
            [f"no match criteria: fits any incident with confidence {GENERIC_CONFIDENCE}"],
        )
    confidence = sum(s.value for s in scores) / len(scores)
    return MatchResult(round(confidence, 4), [s.reason for s in scores])


def _severity_score(severities: Sequence[str], severity: Any) -> _Score | None:
    if not severities:
        return None
    listed = ", ".join(severities)
    if severity in severities:
        return _Score(1.0, f"severity {severity} is one of {listed}")
    return _Score(0.0, f"severity {severity or '(none)'} is not one of {listed}")


def _service_score(services: Sequence[str], service: Any) -> _Score | None:
    if not services:
        return None
    listed = ", ".join(services)
    if not isinstance(service, str) or not service.strip():
        return _Score(0.0, f"the incident names no service (the runbook is for {listed})")
    if service.strip().casefold() in {s.casefold() for s in services}:
        return _Score(1.0, f"service '{service}' is one of {listed}")
    return _Score(0.0, f"service '{service}' is not one of {listed}")


def _keyword_score(keywords: Sequence[str], text: str) -> _Score | None:
    keywords = [k for k in keywords if k.strip()]
    if not keywords:
        return None
    found = [k for k in keywords if _keyword_pattern(k).search(text)]
    missing = [k for k in keywords if k not in found]
    if not found:
        return _Score(0.0, f"none of the keywords found: {_quoted(keywords)}")
    value = 1.0 if len(found) >= 2 or not missing else 0.5
    reason = f"keyword{'s' if len(found) > 1 else ''} found: {_quoted(found)}"
    if missing:
        reason += f" (not found: {_quoted(missing)})"
    return _Score(value, reason)


def _searched_text(incident: Mapping[str, Any]) -> str:
    return "\n".join(
        value for key in _SEARCHED_FIELDS if isinstance(value := incident.get(key), str)
    )


@lru_cache(maxsize=512)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in keyword.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


def _quoted(words: Sequence[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)
