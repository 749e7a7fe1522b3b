"""Ranking runbooks for an incident: four factors, each explained, weighted per org; a near
tie is marked ambiguous; history counts but one run proves little."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dsl.compiler import compile_file
from dsl.runbook_plan import MatchPlan, RunbookPlan, RunbookStepPlan
from services.triage_match import (
    AMBIGUITY_PENALTY,
    MatchWeights,
    RunbookHistory,
    rank_runbooks,
)
from tests.conftest import REPO

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
SHIPPED = ("restart-systemd-service", "clear-disk-space", "disable-feature-flag")


def incident(**fields: Any) -> dict[str, Any]:
    return {"title": "Checkout errors", "service": "checkout", "severity": "SEV2", **fields}


def plan(runbook_id: str, description: str = "", **match: Any) -> RunbookPlan:
    step = RunbookStepPlan(name="act", phase="step", run="true")
    return RunbookPlan(
        id=runbook_id,
        name=runbook_id,
        description=description,
        match=MatchPlan(**match),
        steps=(step,),
        plan_hash=f"h-{runbook_id}-{description}",
    )


def shipped() -> list[RunbookPlan]:
    plans = [compile_file(REPO / "yaml_workflows" / f"{n}.yaml").runbook for n in SHIPPED]
    return [p for p in plans if p is not None]


def test_the_shipped_runbooks_rank_by_meaning_of_the_incident() -> None:
    disk = incident(title="Disk usage above 95% on /var", service="web")
    ranked = rank_runbooks(disk, shipped(), {}, now=NOW)

    best = ranked[0]
    assert best.runbook_id == "clear-disk-space"
    assert set(best.factors) == {"criteria", "text", "success", "recency"}
    assert best.factors["text"] > ranked[-1].factors["text"]
    assert any("'disk'" in reason for reason in best.reasons)


def test_confidence_is_the_weighted_mean_of_the_factors() -> None:
    weights = MatchWeights(criteria=0.5, text=0.2, success=0.2, recency=0.1)
    [ranked] = rank_runbooks(
        incident(), [plan("only", keywords=("checkout",))], {}, now=NOW, weights=weights
    )
    f = ranked.factors
    expected = (0.5 * f["criteria"] + 0.2 * f["text"] + 0.2 * f["success"]) / 1.0
    assert ranked.confidence == pytest.approx(expected, abs=1e-4)
    assert f["success"] == 0.5  # never run: neither good nor bad
    assert f["recency"] == 0.0
    assert "never run here yet: success rate counted as 0.5" in ranked.reasons


def test_words_every_runbook_has_tell_less_than_rare_ones() -> None:
    plans = [
        plan("restart", "restart the checkout service when it is down"),
        plan("latency", "checkout latency: scale out the checkout pool"),
    ]
    ranked = rank_runbooks(incident(title="checkout down"), plans, {}, now=NOW)

    assert ranked[0].runbook_id == "restart"
    assert ranked[0].factors["text"] > ranked[1].factors["text"] > 0


def test_success_is_smoothed_so_one_run_proves_little() -> None:
    plans = [plan("once", keywords=("checkout",)), plan("often", keywords=("checkout",))]
    history = {
        "once": RunbookHistory(resolved=1),
        "often": RunbookHistory(resolved=9, failed=1),
    }
    ranked = {r.runbook_id: r for r in rank_runbooks(incident(), plans, history, now=NOW)}

    assert ranked["once"].factors["success"] == pytest.approx(2 / 3, abs=1e-4)
    assert ranked["often"].factors["success"] == pytest.approx(10 / 12, abs=1e-4)
    assert "resolved 9 of 10 session(s)" in " ".join(ranked["often"].reasons)


def test_a_runbook_that_keeps_failing_falls_below_one_that_works() -> None:
    plans = [plan("flaky", keywords=("checkout",)), plan("solid", keywords=("checkout",))]
    history = {
        "flaky": RunbookHistory(resolved=0, failed=6),
        "solid": RunbookHistory(resolved=6, last_success=NOW - timedelta(days=1)),
    }
    ranked = rank_runbooks(incident(), plans, history, now=NOW)

    assert [r.runbook_id for r in ranked] == ["solid", "flaky"]


def test_recency_decays_with_the_days_since_the_last_success() -> None:
    plans = [plan("a"), plan("b")]
    history = {
        "a": RunbookHistory(resolved=1, last_success=NOW - timedelta(days=1)),
        "b": RunbookHistory(resolved=1, last_success=NOW - timedelta(days=30)),
    }
    ranked = {r.runbook_id: r for r in rank_runbooks(incident(), plans, history, now=NOW)}

    assert ranked["a"].factors["recency"] == pytest.approx(0.931, abs=1e-3)
    assert ranked["b"].factors["recency"] == pytest.approx(0.117, abs=1e-3)


def test_incidents_a_runbook_resolved_before_count_as_its_text() -> None:
    plans = [plan("a", "generic fix"), plan("b", "generic fix")]
    history = {"b": RunbookHistory(resolved_texts=("Payment gateway timeouts",))}
    ranked = rank_runbooks(incident(title="payment gateway timeouts"), plans, history, now=NOW)

    assert ranked[0].runbook_id == "b"
    assert ranked[0].factors["text"] > 0 == ranked[1].factors["text"]


def test_a_near_tie_is_ambiguous_and_lowered_for_both() -> None:
    plans = [plan("one", keywords=("checkout",)), plan("two", keywords=("checkout",))]
    weights = MatchWeights(criteria=1, text=0, success=0, recency=0)
    ranked = rank_runbooks(incident(), plans, {}, now=NOW, weights=weights)

    assert [r.confidence for r in ranked] == [1 - AMBIGUITY_PENALTY] * 2
    assert all(any(r.startswith("ambiguous: one and two") for r in x.reasons) for x in ranked)


def test_a_clear_winner_is_not_ambiguous() -> None:
    plans = [plan("fits", keywords=("checkout",)), plan("other", keywords=("disk",))]
    weights = MatchWeights(criteria=1, text=0, success=0, recency=0)
    ranked = rank_runbooks(incident(), plans, {}, now=NOW, weights=weights)

    assert ranked[0].confidence == 1.0
    assert not any("ambiguous" in r for r in ranked[0].reasons)


def test_no_runbooks_rank_to_nothing_and_an_empty_incident_scores_no_text() -> None:
    assert rank_runbooks(incident(), [], {}, now=NOW) == []
    [ranked] = rank_runbooks({"title": ""}, [plan("a", "disk")], {}, now=NOW)
    assert ranked.factors["text"] == 0.0
    assert "its text shares no telling word with the incident" in ranked.reasons
