"""How well each runbook fits an incident, on four factors a person can read (DESIGN §12).

- criteria: the runbook's own `match` (keywords, services, severities; runbook_match.py);
- text: how much of the incident's informative wording the runbook's text covers — its
  name, description, keywords, services, step names and commands, plus the incidents it
  resolved before — each shared word weighted by BM25's inverse document frequency over
  the runbooks, so a word every runbook has counts for little;
- success: sessions resolved against escalated, smoothed as (resolved + 1) / (runs + 2)
  so that one run proves little and a runbook never run sits at 0.5;
- recency: exp(-days since its last success / 14), 0 when it never succeeded.

The confidence is the weighted mean of the factors. When the best two are within
NEAR_TIE of each other, the choice is ambiguous: both lose AMBIGUITY_PENALTY and say so,
so that auto mode asks a person rather than guess. Pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from dsl.runbook_plan import RunbookPlan
from services.runbook_match import match_runbook

NEAR_TIE = 0.05
AMBIGUITY_PENALTY = 0.1
RECENCY_DAYS = 14.0
_SHOWN_WORDS = 4
_WORD = re.compile(r"[^\W_]{2,}")
_STOPWORDS = frozenset(
    (  # noqa: SIM905 - a list of words reads better as words
        "a an and are as at be by for from has have in is it its of on or than that the this "
        "to was were will with incident incidents service alert alerts shell quote"
    ).split()
)
_INCIDENT_FIELDS = ("title", "description", "service")


@dataclass(frozen=True)
class RunbookHistory:
    resolved: int = 0
    failed: int = 0  # escalated or rolled back
    last_success: datetime | None = None
    resolved_texts: tuple[str, ...] = ()  # titles and descriptions of incidents it resolved


@dataclass(frozen=True)
class MatchWeights:
    criteria: float = 0.45
    text: float = 0.35
    success: float = 0.15
    recency: float = 0.05


@dataclass(frozen=True)
class RankedRunbook:
    runbook_id: str
    name: str
    confidence: float
    factors: dict[str, float]
    reasons: list[str] = field(default_factory=list)


def rank_runbooks(
    incident: Mapping[str, Any],
    runbooks: Sequence[RunbookPlan],
    history: Mapping[str, RunbookHistory],
    *,
    now: datetime,
    weights: MatchWeights = MatchWeights(),
) -> list[RankedRunbook]:
    """Every runbook scored for `incident` (a snapshot as a mapping), best first."""
    empty = RunbookHistory()
    documents = [_document(plan, history.get(plan.id, empty).resolved_texts) for plan in runbooks]
    query = _words(_incident_text(incident))
    idf = _idf(query, documents)
    weight_of = asdict(weights)
    ranked = [
        _ranked(plan, incident, document, idf, history.get(plan.id, empty), now, weight_of)
        for plan, document in zip(runbooks, documents, strict=True)
    ]
    ranked.sort(key=lambda r: (-r.confidence, r.runbook_id))
    return _mark_ambiguity(ranked)


def _ranked(
    plan: RunbookPlan,
    incident: Mapping[str, Any],
    document: frozenset[str],
    idf: Mapping[str, float],
    history: RunbookHistory,
    now: datetime,
    weights: Mapping[str, float],
) -> RankedRunbook:
    criteria = match_runbook(plan.match, incident)
    text, shared = _text_score(document, idf)
    success = (history.resolved + 1) / (history.resolved + history.failed + 2)
    recency = _recency(history.last_success, now)
    factors = {
        "criteria": round(criteria.confidence, 4),
        "text": round(text, 4),
        "success": round(success, 4),
        "recency": round(recency, 4),
    }
    reasons = [
        *criteria.reasons,
        _text_reason(shared, text),
        _success_reason(history, success),
        _recency_reason(history.last_success, now),
    ]
    return RankedRunbook(plan.id, plan.name, _weighted(factors, weights), factors, reasons)


def _weighted(factors: Mapping[str, float], weights: Mapping[str, float]) -> float:
    pairs = [(value, weights[name]) for name, value in factors.items()]
    total = sum(weight for _, weight in pairs)
    return round(sum(value * weight for value, weight in pairs) / total, 4)


def _mark_ambiguity(ranked: list[RankedRunbook]) -> list[RankedRunbook]:
    if len(ranked) < 2 or ranked[0].confidence <= 0:
        return ranked
    best, runner_up = ranked[0], ranked[1]
    if best.confidence - runner_up.confidence >= NEAR_TIE:
        return ranked
    reason = (
        f"ambiguous: {best.runbook_id} and {runner_up.runbook_id} fit within {NEAR_TIE} "
        f"of each other, so each loses {AMBIGUITY_PENALTY}: a person should choose"
    )
    lowered = [
        replace(
            r,
            confidence=round(max(0.0, r.confidence - AMBIGUITY_PENALTY), 4),
            reasons=[*r.reasons, reason],
        )
        for r in ranked[:2]
    ]
    return sorted(lowered + ranked[2:], key=lambda r: (-r.confidence, r.runbook_id))


# --- text -------------------------------------------------------------------------------


def _idf(query: frozenset[str], documents: Sequence[frozenset[str]]) -> dict[str, float]:
    """BM25's idf for each query word some runbook has; a word none has cannot tell
    runbooks apart and is left out."""
    count = len(documents)
    idf: dict[str, float] = {}
    for word in query:
        df = sum(1 for document in documents if word in document)
        if df:
            idf[word] = math.log(1 + (count - df + 0.5) / (df + 0.5))
    return idf


def _text_score(document: frozenset[str], idf: Mapping[str, float]) -> tuple[float, list[str]]:
    total = sum(idf.values())
    if total <= 0:
        return 0.0, []
    shared = sorted((w for w in idf if w in document), key=lambda w: (-idf[w], w))
    return sum(idf[w] for w in shared) / total, shared


def _document(plan: RunbookPlan, resolved_texts: tuple[str, ...]) -> frozenset[str]:
    words = _plan_words(plan)
    if not resolved_texts:
        return words
    return words | _words(" ".join(resolved_texts))


_PLAN_WORDS: dict[tuple[str, str], frozenset[str]] = {}
_PLAN_WORDS_KEPT = 4096


def _plan_words(plan: RunbookPlan) -> frozenset[str]:
    # Cached by id and hash: ranking 1,000 runbooks must not re-read 1,000 runbooks.
    key = (plan.id, plan.plan_hash)
    words = _PLAN_WORDS.get(key)
    if words is None:
        if len(_PLAN_WORDS) >= _PLAN_WORDS_KEPT:
            _PLAN_WORDS.clear()
        words = _PLAN_WORDS[key] = _read_plan_words(plan)
    return words


def _read_plan_words(plan: RunbookPlan) -> frozenset[str]:
    parts: list[str] = [plan.name, plan.description, plan.id.replace("-", " ")]
    parts += [*plan.match.keywords, *plan.match.services]
    for step in plan.all_steps():
        parts += [step.name.replace("_", " "), step.run or ""]
    return _words(" ".join(parts))


def _incident_text(incident: Mapping[str, Any]) -> str:
    values = [incident.get(key) for key in _INCIDENT_FIELDS]
    tags = incident.get("tags") or []
    return " ".join(str(v) for v in [*values, *tags] if isinstance(v, str))


def _words(text: str) -> frozenset[str]:
    return frozenset(
        w for w in _WORD.findall(text.casefold()) if w not in _STOPWORDS and not w.isdigit()
    )


def _text_reason(shared: Sequence[str], text: float) -> str:
    if not shared:
        return "its text shares no telling word with the incident"
    return f"its text covers {text:.0%} of the incident's telling words ({_quoted(shared)})"


# --- history ----------------------------------------------------------------------------


def _recency(last_success: datetime | None, now: datetime) -> float:
    if last_success is None:
        return 0.0
    days = max(0.0, (now - last_success).total_seconds() / 86400)
    return math.exp(-days / RECENCY_DAYS)


def _success_reason(history: RunbookHistory, success: float) -> str:
    runs = history.resolved + history.failed
    if runs == 0:
        return "never run here yet: success rate counted as 0.5"
    return (
        f"resolved {history.resolved} of {runs} session(s) it ran here "
        f"(smoothed success {success:.2f})"
    )


def _recency_reason(last_success: datetime | None, now: datetime) -> str:
    if last_success is None:
        return "no successful run yet"
    days = (now - last_success).total_seconds() / 86400
    return f"last resolved an incident {days:.1f} day(s) ago"


def _quoted(words: Iterable[str]) -> str:
    shown = list(words)[:_SHOWN_WORDS]
    return ", ".join(f"'{w}'" for w in shown)
