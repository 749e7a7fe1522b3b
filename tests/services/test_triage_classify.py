"""The triage classifier: each kind of rule applies exactly at the edges of its pattern,
window and count; the rules that apply add up on a log-odds scale into a verdict with its
reasons in words; nothing known leaves a real incident real."""

from __future__ import annotations

import math
import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dsl.compiler import compile_file, compile_text
from dsl.triage_plan import (
    Fired,
    PatternCondition,
    ResolvedBySource,
    TriageRulePlan,
    TriageRulesPlan,
)
from services.triage_classify import (
    NO_RULE_APPLIES,
    Classification,
    Evidence,
    IncidentFacts,
    PastAlert,
    classify,
    closes,
    fingerprint_of,
)
from tests.conftest import REPO

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def incident(**fields: Any) -> dict[str, Any]:
    return {
        "title": "Checkout 5xx above 2%",
        "description": "Error rate on the checkout API",
        "service": "checkout",
        "environment": "production",
        "severity": "SEV2",
        "source_type": "prometheus",
        "team": "payments",
        "region": "eu-west-1",
        "tags": ["team:payments"],
        "correlation_keys": [],
        "status": "OPEN",
        **fields,
    }


def facts(
    past: tuple[PastAlert, ...] = (),
    open_duplicates: tuple[str, ...] = (),
    maintenance: str | None = None,
) -> IncidentFacts:
    return IncidentFacts(NOW, past, open_duplicates, maintenance)


def make_rule(
    rule_id: str = "r",
    confidence: float = 0.8,
    verdict: str = "false_positive",
    **conditions: Any,
) -> TriageRulePlan:
    return TriageRulePlan(
        id=rule_id,
        description="",
        verdict=verdict,
        confidence=confidence,
        line=1,
        **conditions,
    )


def rules(*plans: TriageRulePlan) -> TriageRulesPlan:
    return TriageRulesPlan(rules=plans, source_path="triage.yaml")


def pattern(field: str, regex: str, **kwargs: Any) -> TriageRulePlan:
    return make_rule(patterns=(PatternCondition(field, regex),), **kwargs)


def applies(plan: TriageRulePlan, the_incident: dict[str, Any], the_facts: IncidentFacts) -> bool:
    return bool(classify(rules(plan), the_incident, the_facts).evidence)


def resolved(ago: timedelta, lasted: timedelta, by_source: bool = True) -> PastAlert:
    created = NOW - ago
    return PastAlert(created, created + lasted, by_source)


def fired(ago: timedelta) -> PastAlert:
    return PastAlert(NOW - ago, None, False)


# --- nothing known ----------------------------------------------------------------------


@pytest.mark.parametrize("plan", [None, rules(), rules(pattern("service", "billing"))])
def test_when_no_rule_applies_it_is_uncertain_and_treated_as_real(
    plan: TriageRulesPlan | None,
) -> None:
    assert classify(plan, incident(), facts()) == Classification(
        verdict="uncertain",
        confidence=0.5,
        p_false_positive=0.5,
        reasons=[NO_RULE_APPLIES],
        evidence=[],
    )
    assert NO_RULE_APPLIES == (
        "no triage rule applies: treated as real until a person says otherwise"
    )


# --- patterns on the incident's fields ----------------------------------------------------


@pytest.mark.parametrize(
    ("field", "regex", "value", "matches"),
    [
        ("environment", "(?i)dev|staging", "Staging", True),
        ("environment", "(?i)dev|staging", "staging-eu", False),  # in full, not a part
        ("environment", "(?i)dev|staging", None, False),  # no value never matches
        ("severity", "SEV1", "SEV1", True),
        ("severity", "SEV1", "sev1", False),  # case as written
        ("service", "check.*", "checkout", True),
        ("title", "Disk .* full", "Disk /var full", True),
        ("source_type", "datadog", "prometheus", False),
        ("team", "pay.*", "payments", True),
        ("region", "us-.*", "eu-west-1", False),
        ("description", ".*API", "Error rate on the checkout API", True),
    ],
)
def test_a_field_pattern_must_match_the_whole_value(
    field: str, regex: str, value: str | None, matches: bool
) -> None:
    assert applies(pattern(field, regex), incident(**{field: value}), facts()) is matches


def test_a_tag_pattern_matches_any_one_tag_in_full() -> None:
    plan = pattern("tag", "env:(test|dev)")
    assert applies(plan, incident(tags=["team:a", "env:test"]), facts())
    assert not applies(plan, incident(tags=["env:testing"]), facts())
    assert not applies(plan, incident(tags=[]), facts())
    result = classify(rules(plan), incident(tags=["team:a", "env:dev"]), facts())
    assert result.reasons == [
        "its tag 'env:dev' matches 'env:(test|dev)' (rule r: a false positive, confidence 0.8)"
    ]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"title": "Synthetic probe failed"}, "its title says 'Synthetic'"),
        ({"description": "from the canary fleet"}, "its description says 'canary'"),
        ({"tags": ["kind:canary"]}, "its tag 'kind:canary' says 'canary'"),
    ],
)
def test_text_is_searched_in_title_description_and_tags(
    fields: dict[str, Any], reason: str
) -> None:
    plan = pattern("text", r"(?i)\b(synthetic|canary)\b", rule_id="synthetic", confidence=0.9)
    result = classify(rules(plan), incident(**fields), facts())
    assert result.reasons == [f"{reason} (rule synthetic: a false positive, confidence 0.9)"]


def test_text_does_not_match_inside_a_word_or_elsewhere() -> None:
    plan = pattern("text", r"(?i)\bcanary\b")
    assert not applies(plan, incident(title="canaryless deploy"), facts())
    assert not applies(plan, incident(service="canary"), facts())  # not searched


def test_every_condition_of_a_rule_must_hold() -> None:
    plan = make_rule(
        rule_id="production-sev1",
        verdict="true_positive",
        confidence=0.9,
        patterns=(
            PatternCondition("severity", "SEV1"),
            PatternCondition("environment", "(?i)prod|production"),
        ),
    )
    assert not applies(plan, incident(severity="SEV2"), facts())
    assert not applies(plan, incident(severity="SEV1", environment="staging"), facts())
    result = classify(rules(plan), incident(severity="SEV1"), facts())
    assert result.reasons == [
        "its severity 'SEV1' matches 'SEV1' and its environment 'production' matches "
        "'(?i)prod|production' (rule production-sev1: a real incident, confidence 0.9)"
    ]


# --- facts from the past ---------------------------------------------------------------


TRANSIENT = make_rule(
    rule_id="transient",
    confidence=0.85,
    resolved_by_source=ResolvedBySource(300.0, 3, 86400.0),
)


def test_transient_counts_quick_resolves_by_the_source_in_the_window() -> None:
    quick = tuple(resolved(ago, 5 * MINUTE) for ago in (HOUR, 2 * HOUR, 24 * HOUR))
    result = classify(rules(TRANSIENT), incident(), facts(quick))
    assert result.reasons == [
        "alerts like it were resolved by their source within 5m 3 times in the last 1d "
        "(rule transient: a false positive, confidence 0.85)"
    ]


@pytest.mark.parametrize(
    "third",
    [
        resolved(24 * HOUR + timedelta(seconds=1), 5 * MINUTE),  # just before the window
        resolved(HOUR, 5 * MINUTE + timedelta(seconds=1)),  # a second too slow
        resolved(HOUR, MINUTE, by_source=False),  # a person resolved it
        PastAlert(NOW - HOUR, None, True),  # not resolved
    ],
)
def test_transient_does_not_count_what_falls_outside(third: PastAlert) -> None:
    two = (resolved(HOUR, MINUTE), resolved(2 * HOUR, MINUTE))
    assert not applies(TRANSIENT, incident(), facts((*two, third)))
    assert applies(TRANSIENT, incident(), facts((*two, resolved(3 * HOUR, MINUTE))))


def test_naive_times_from_the_store_are_read_as_utc() -> None:
    naive = tuple(
        PastAlert((NOW - ago).replace(tzinfo=None), (NOW - ago + MINUTE).replace(tzinfo=None), True)
        for ago in (HOUR, 2 * HOUR, 3 * HOUR)
    )
    assert applies(TRANSIENT, incident(), facts(naive))


FLAPPING = make_rule(rule_id="flapping", confidence=0.75, fired=Fired(6, 3600.0))


def test_flapping_counts_this_alert_and_the_earlier_ones_in_the_window() -> None:
    five = tuple(fired(minutes * MINUTE) for minutes in (1, 10, 20, 30, 60))
    result = classify(rules(FLAPPING), incident(), facts(five))
    assert result.reasons == [
        "fired 6 times in the last 1h, counting this one "
        "(rule flapping: a false positive, confidence 0.75)"
    ]
    four_and_an_old_one = (*five[:4], fired(HOUR + timedelta(seconds=1)))
    assert not applies(FLAPPING, incident(), facts(four_and_an_old_one))


def test_a_duplicate_of_an_open_incident() -> None:
    plan = make_rule(rule_id="duplicate", confidence=0.95, duplicate_of_open=True)
    assert not applies(plan, incident(), facts())
    one = classify(rules(plan), incident(), facts(open_duplicates=("inc-1",)))
    assert one.reasons[0].startswith(
        "duplicates the open incident inc-1 (same correlation key) (rule duplicate: "
    )
    many = classify(rules(plan), incident(), facts(open_duplicates=("a", "b", "c", "d", "e")))
    assert many.reasons[0].startswith(
        "duplicates 5 open incidents with the same correlation key: a, b, c and 2 more "
    )


def test_inside_a_maintenance_window() -> None:
    plan = make_rule(rule_id="maintenance", confidence=0.9, in_maintenance=True)
    assert not applies(plan, incident(), facts())
    result = classify(rules(plan), incident(), facts(maintenance="database upgrade"))
    assert result.reasons == [
        "raised inside a maintenance window: database upgrade "
        "(rule maintenance: a false positive, confidence 0.9)"
    ]


# --- the combination --------------------------------------------------------------------


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_one_rule_alone_gives_its_own_confidence() -> None:
    result = classify(rules(pattern("service", "checkout", confidence=0.7)), incident(), facts())
    assert (result.verdict, result.confidence, result.p_false_positive) == (
        "false_positive",
        0.7,
        0.7,
    )
    assert result.evidence == [Evidence("r", "false_positive", 0.7, result.reasons[0])]


def test_agreeing_rules_add_up_on_the_log_odds_scale() -> None:
    plan = rules(
        pattern("service", "checkout", rule_id="a", confidence=0.8),
        pattern("team", "payments", rule_id="b", confidence=0.7),
    )
    result = classify(plan, incident(), facts())
    expected = round(sigmoid(logit(0.8) + logit(0.7)), 4)
    assert expected == 0.9032
    assert (result.verdict, result.confidence, result.p_false_positive) == (
        "false_positive",
        expected,
        expected,
    )
    assert [e.rule_id for e in result.evidence] == ["a", "b"]
    assert len(result.reasons) == 2


def test_a_rule_for_real_pulls_the_other_way() -> None:
    plan = rules(
        pattern("service", "checkout", rule_id="fp", confidence=0.9),
        pattern("environment", "production", rule_id="tp", confidence=0.9, verdict="true_positive"),
    )
    result = classify(plan, incident(), facts())
    assert (result.verdict, result.confidence, result.p_false_positive) == ("uncertain", 0.5, 0.5)
    assert result.reasons[-1] == (
        "together the rules leave it uncertain (50% likely a false positive): "
        "treated as real until a person says otherwise"
    )
    stronger = rules(
        pattern("service", "checkout", rule_id="fp", confidence=0.7),
        pattern("environment", "production", rule_id="tp", confidence=0.9, verdict="true_positive"),
    )
    real = classify(stronger, incident(), facts())
    p = round(sigmoid(logit(0.7) - logit(0.9)), 4)
    assert p == 0.2059
    assert (real.verdict, real.confidence, real.p_false_positive) == ("true_positive", 0.7941, p)
    assert len(real.reasons) == 2  # no "uncertain" sentence


@pytest.mark.parametrize(
    ("confidence", "verdict", "expected"),
    [
        (0.6, "false_positive", "false_positive"),  # p = 0.6: at the threshold
        (0.59, "false_positive", "uncertain"),
        (0.6, "true_positive", "true_positive"),  # p = 0.4
        (0.59, "true_positive", "uncertain"),  # p = 0.41
    ],
)
def test_verdict_thresholds(confidence: float, verdict: str, expected: str) -> None:
    plan = rules(pattern("service", "checkout", confidence=confidence, verdict=verdict))
    result = classify(plan, incident(), facts())
    assert result.verdict == expected
    assert result.confidence == round(max(confidence, 1 - confidence), 4)


def test_many_strong_rules_do_not_overflow() -> None:
    many = rules(
        *(pattern("service", "checkout", rule_id=f"r{i}", confidence=0.99) for i in range(400))
    )
    assert classify(many, incident(), facts()).p_false_positive == 1.0
    real = rules(
        *(
            pattern(
                "service", "checkout", rule_id=f"r{i}", confidence=0.99, verdict="true_positive"
            )
            for i in range(400)
        )
    )
    result = classify(real, incident(), facts())
    assert (result.verdict, result.p_false_positive, result.confidence) == (
        "true_positive",
        0.0,
        1.0,
    )


# --- the shipped rules, end to end -------------------------------------------------------


def shipped() -> TriageRulesPlan:
    plan = compile_file(REPO / "yaml_workflows" / "triage.yaml").triage
    assert plan is not None
    return plan


def test_the_shipped_rules_leave_an_ordinary_production_alert_alone() -> None:
    result = classify(shipped(), incident(), facts())
    assert result.verdict == "uncertain" and result.reasons == [NO_RULE_APPLIES]


def test_the_shipped_rules_on_a_synthetic_staging_canary() -> None:
    result = classify(
        shipped(),
        incident(title="Synthetic check: checkout canary", environment="staging"),
        facts(),
    )
    assert [e.rule_id for e in result.evidence] == ["non-production", "synthetic"]
    assert result.verdict == "false_positive"
    assert result.confidence == round(sigmoid(logit(0.7) + logit(0.9)), 4) == 0.9545


def test_the_shipped_rules_keep_a_production_sev1_real_against_one_weak_hint() -> None:
    result = classify(shipped(), incident(severity="SEV1", tags=["test alert"]), facts())
    assert [e.rule_id for e in result.evidence] == ["synthetic", "production-sev1"]
    assert result.verdict == "uncertain"


def test_rules_compiled_from_text_apply_the_same() -> None:
    text = """
    triage:
      rules:
        - id: non-production
          verdict: false_positive
          confidence: 0.7
          when: {environment: "(?i)dev|staging"}
    """
    plan = compile_text(textwrap.dedent(text).lstrip(), "triage.yaml").triage
    assert plan is not None
    assert classify(plan, incident(environment="dev"), facts()).verdict == "false_positive"
    assert classify(plan, incident(environment="prod"), facts()).verdict == "uncertain"


# --- the fingerprint the store looks past alerts up by ---------------------------------


def test_the_fingerprint_is_the_correlation_key_else_the_title() -> None:
    assert fingerprint_of(incident(correlation_keys=["prom:abc", "x"])) == (
        "correlation_key",
        "prom:abc",
    )
    assert fingerprint_of(incident(correlation_keys=[])) == ("title", "Checkout 5xx above 2%")
    assert fingerprint_of({"title": "T", "correlation_keys": None}) == ("title", "T")


def test_a_vote_adds_weight_but_never_closes_without_a_rule() -> None:
    vote = Evidence("learned", "false_positive", 0.95, "people said so", vote=True)
    rule = Evidence("synthetic", "false_positive", 0.7, "a canary")
    now = datetime(2026, 12, 5, tzinfo=UTC)
    facts = IncidentFacts(now=now, past=(), open_duplicates=(), maintenance=None)

    alone = classify(None, {"title": "x"}, facts, [vote])
    together = classify(None, {"title": "x"}, facts, [vote, rule])

    assert alone.verdict == "false_positive" and alone.confidence >= 0.8
    assert not closes(alone, 0.8)
    assert closes(together, 0.8)
    assert together.confidence > alone.confidence
