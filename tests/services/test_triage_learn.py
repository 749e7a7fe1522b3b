"""The learned classifier: abstains until it has verdicts of both kinds, learns what
people said, is calibrated (not sure of everything), and lives as plain JSON data that
predicts exactly what scikit-learn's fitted model does."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from services.triage_learn import (
    MIN_PER_CLASS,
    LabelledIncident,
    decision_value,
    features_text,
    predict,
    train,
)


def incident(title: str, **fields: Any) -> dict[str, Any]:
    return {"title": title, "service": "checkout", "severity": "SEV3", **fields}


def noise(n: int) -> list[LabelledIncident]:
    return [
        LabelledIncident(incident(f"canary probe {i} failed", environment="staging"), True)
        for i in range(n)
    ]


def real(n: int) -> list[LabelledIncident]:
    return [
        LabelledIncident(incident(f"checkout 5xx errors in production, order {i}"), False)
        for i in range(n)
    ]


def test_it_abstains_until_it_has_enough_verdicts_of_each_kind() -> None:
    assert train(noise(MIN_PER_CLASS - 1) + real(20)) is None
    assert train(noise(20)) is None
    assert predict(None, incident("anything")) is None
    assert train(noise(MIN_PER_CLASS) + real(MIN_PER_CLASS)) is not None


def test_it_learns_what_people_said_and_names_the_telling_words() -> None:
    state = train(noise(20) + real(20))

    fp = predict(state, incident("canary probe failed again", environment="staging"))
    tp = predict(state, incident("checkout 5xx errors in production"))

    assert fp is not None and tp is not None
    assert fp.p_false_positive > 0.7 > 0.3 > tp.p_false_positive
    assert "'canary'" in fp.reason or "'probe'" in fp.reason
    assert "40 verdict(s)" in fp.reason


def test_the_model_keeps_the_terms_that_say_each_kind() -> None:
    state = train(noise(20) + real(20))
    assert state is not None

    assert "canary" in state["top_terms"]["false_positive"]
    assert "production" in state["top_terms"]["true_positive"]
    assert not set(state["top_terms"]["false_positive"]) & set(state["top_terms"]["true_positive"])


def test_source_and_source_type_are_the_same_field() -> None:
    assert features_text({"source": "Grafana"}) == features_text({"source_type": "grafana"})
    assert "source_type_grafana" in features_text({"source": "Grafana"})


def test_the_model_is_plain_json_and_predicts_the_same_after_a_round_trip() -> None:
    state = train(noise(10) + real(10))
    assert state is not None

    restored = json.loads(json.dumps(state, allow_nan=False))

    probe = incident("canary probe failed")
    assert predict(restored, probe) == predict(state, probe)


def test_its_score_is_exactly_scikit_learns() -> None:
    examples = noise(12) + real(9)
    state = train(examples)
    assert state is not None
    texts = [features_text(e.incident) for e in examples]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    model.fit(vectorizer.fit_transform(texts), [int(e.false_positive) for e in examples])

    for probe in (incident("canary 5xx"), incident("orders slow", tags=["tier:1"]), {}):
        expected = model.decision_function(vectorizer.transform([features_text(probe)]))[0]
        assert decision_value(state, probe) == pytest.approx(expected, abs=1e-9)


def test_with_noisy_labels_it_is_not_sure_of_everything() -> None:
    rng = random.Random(3)
    examples = [
        LabelledIncident(
            e.incident, e.false_positive if rng.random() > 0.2 else not e.false_positive
        )
        for e in noise(40) + real(40)
    ]
    state = train(examples)

    said = [predict(state, e.incident) for e in noise(40)]
    mean = sum(v.p_false_positive for v in said if v) / len(said)
    assert 0.5 < mean < 0.95


def test_words_it_never_saw_leave_it_near_the_middle() -> None:
    state = train(noise(20) + real(20))
    vote = predict(state, {"title": "zyxw qwerty"})
    assert vote is not None
    assert 0.2 < vote.p_false_positive < 0.8
    assert "no word it knows" in vote.reason


def test_a_model_of_another_format_is_refused_naming_the_field() -> None:
    state = train(noise(5) + real(5))
    assert state is not None
    with pytest.raises(ValueError, match="format"):
        predict({**state, "format": 99}, incident("x"))
    with pytest.raises(ValueError, match="coef"):
        predict({k: v for k, v in state.items() if k != "coef"}, incident("x"))
