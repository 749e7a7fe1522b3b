"""A classifier each org learns from its people's verdicts: is this incident a false
positive? Pure.

Text and fields (title, description, service, source, severity, environment, tags;
numbers masked) become TF-IDF features of words and word pairs; a logistic regression,
balanced between the two kinds, weighs them; Platt scaling fitted on cross-validated
scores turns its score into a calibrated probability. It abstains (None) until it has
MIN_PER_CLASS verdicts of each kind.

The fitted model is kept as data — vocabulary, idf, weights, calibration — and `predict`
recomputes the score from that data alone: a model read back from a database is never
unpickled, so it can never run code.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

FORMAT = 1
MIN_PER_CLASS = 5
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
_DIGITS = re.compile(r"\d+")
_SHOWN_WORDS = 3
_TOP_TERMS = 10
_FIELDS = ("service", "source_type", "severity", "environment")


@dataclass(frozen=True)
class LabelledIncident:
    incident: Mapping[str, Any]
    false_positive: bool


@dataclass(frozen=True)
class LearnedVote:
    p_false_positive: float
    reason: str


def train(examples: Sequence[LabelledIncident]) -> dict[str, Any] | None:
    """The model as JSON data, or None while either kind has fewer than MIN_PER_CLASS."""
    labels = [1 if e.false_positive else 0 for e in examples]
    counts = Counter(labels)
    if min(counts[0], counts[1]) < MIN_PER_CLASS:
        return None
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    texts = [features_text(e.incident) for e in examples]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    folds = StratifiedKFold(n_splits=min(5, counts[0], counts[1]), shuffle=True, random_state=0)
    scores = cross_val_predict(
        make_pipeline(vectorizer, model), texts, labels, cv=folds, method="decision_function"
    )
    platt = LogisticRegression(C=1.0).fit([[s] for s in scores], labels)  # a mild prior
    model.fit(vectorizer.fit_transform(texts), labels)
    return {
        "format": FORMAT,
        "vocabulary": {term: int(i) for term, i in vectorizer.vocabulary_.items()},
        "idf": [float(v) for v in vectorizer.idf_],
        "coef": [float(v) for v in model.coef_[0]],
        "intercept": float(model.intercept_[0]),
        "platt": [float(platt.coef_[0][0]), float(platt.intercept_[0])],
        "counts": {"false_positive": counts[1], "true_positive": counts[0]},
        "top_terms": _top_terms(vectorizer.vocabulary_, model.coef_[0]),
    }


def predict(state: Mapping[str, Any] | None, incident: Mapping[str, Any]) -> LearnedVote | None:
    if state is None:
        return None
    _check(state)
    weights = _weights(state, features_text(incident))
    score = sum(weights.values()) + state["intercept"]
    a, b = state["platt"]
    p = _sigmoid(a * score + b)
    return LearnedVote(round(p, 4), _reason(state, weights, p))


def decision_value(state: Mapping[str, Any], incident: Mapping[str, Any]) -> float:
    """The regression's raw score (before calibration), as scikit-learn computes it."""
    _check(state)
    return sum(_weights(state, features_text(incident)).values()) + float(state["intercept"])


def features_text(incident: Mapping[str, Any]) -> str:
    """The words the model reads; fields become single tokens (service_checkout)."""
    parts = [str(incident.get("title") or ""), str(incident.get("description") or "")]
    for field in _FIELDS:
        value = incident.get(field)
        if field == "source_type":  # snapshots say source_type; a hand-made dict may say source
            value = value or incident.get("source")
        if isinstance(value, str) and value:
            parts.append(f"{field}_{_token_safe(value)}")
    parts += [f"tag_{_token_safe(str(tag))}" for tag in incident.get("tags") or []]
    return _DIGITS.sub("0", " ".join(parts).lower())


def _top_terms(vocabulary: Mapping[str, int], coef: Sequence[float]) -> dict[str, list[str]]:
    """The terms that most say each kind, for a person looking at what the org taught it."""
    ranked = sorted(vocabulary, key=lambda term: float(coef[vocabulary[term]]))
    return {
        "false_positive": [t for t in reversed(ranked) if coef[vocabulary[t]] > 0][:_TOP_TERMS],
        "true_positive": [t for t in ranked if coef[vocabulary[t]] < 0][:_TOP_TERMS],
    }


def _weights(state: Mapping[str, Any], text: str) -> dict[str, float]:
    """Each present term's share of the score: coef times its l2-normalised sublinear tf-idf."""
    tokens = _TOKEN.findall(text)
    terms = Counter(tokens + [f"{a} {b}" for a, b in pairwise(tokens)])
    vocabulary, idf, coef = state["vocabulary"], state["idf"], state["coef"]
    values = {
        term: (1 + math.log(count)) * idf[vocabulary[term]]
        for term, count in terms.items()
        if term in vocabulary
    }
    norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
    return {term: coef[vocabulary[term]] * v / norm for term, v in values.items()}


def _reason(state: Mapping[str, Any], weights: Mapping[str, float], p: float) -> str:
    counts = state["counts"]
    verdicts = counts["false_positive"] + counts["true_positive"]
    toward = 1 if p >= 0.5 else -1
    telling = sorted(
        (t for t in weights if weights[t] * toward > 0), key=lambda t: -abs(weights[t])
    )
    words = ", ".join(f"'{t}'" for t in telling[:_SHOWN_WORDS])
    return (
        f"learned from {verdicts} verdict(s) people gave in this org: {p:.0%} likely a false "
        f"positive" + (f" (telling words: {words})" if words else " (no word it knows)")
    )


def _check(state: Mapping[str, Any]) -> None:
    if state.get("format") != FORMAT:
        raise ValueError(f"format: a triage model of format {FORMAT} expected")
    for key in ("vocabulary", "idf", "coef", "intercept", "platt", "counts"):
        if key not in state:
            raise ValueError(f"{key}: missing from the triage model")


def _token_safe(value: str) -> str:
    return re.sub(r"\W+", "_", value.strip().lower())


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    return math.exp(x) / (1 + math.exp(x))
