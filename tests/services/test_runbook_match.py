"""How well a runbook fits an incident: each stated criterion scores, the mean is the
confidence, and the reasons say what matched and what did not."""

from __future__ import annotations

from typing import Any

import pytest

from dsl.compiler import compile_file
from dsl.runbook_plan import MatchPlan
from services.runbook_match import GENERIC_CONFIDENCE, match_runbook
from tests.conftest import REPO


def incident(**fields: Any) -> dict[str, Any]:
    return {
        "title": "Checkout errors",
        "description": None,
        "service": "checkout",
        "severity": "SEV2",
        **fields,
    }


def test_a_runbook_without_criteria_is_generic_and_never_auto_confident() -> None:
    result = match_runbook(MatchPlan(), incident())
    assert result.confidence == GENERIC_CONFIDENCE == 0.5
    assert result.reasons == ["no match criteria: fits any incident with confidence 0.5"]


@pytest.mark.parametrize(
    ("severity", "confidence", "reason"),
    [
        ("SEV2", 1.0, "severity SEV2 is one of SEV1, SEV2"),
        ("SEV3", 0.0, "severity SEV3 is not one of SEV1, SEV2"),
        (None, 0.0, "severity (none) is not one of SEV1, SEV2"),
    ],
)
def test_severities(severity: str | None, confidence: float, reason: str) -> None:
    result = match_runbook(MatchPlan(severities=("SEV1", "SEV2")), incident(severity=severity))
    assert (result.confidence, result.reasons) == (confidence, [reason])


@pytest.mark.parametrize(
    ("service", "confidence", "reason"),
    [
        ("Checkout", 1.0, "service 'Checkout' is one of checkout, payments"),
        ("checkout-api", 0.0, "service 'checkout-api' is not one of checkout, payments"),
        (None, 0.0, "the incident names no service (the runbook is for checkout, payments)"),
    ],
)
def test_services_compare_whole_names_in_any_case(
    service: str | None, confidence: float, reason: str
) -> None:
    result = match_runbook(MatchPlan(services=("checkout", "payments")), incident(service=service))
    assert (result.confidence, result.reasons) == (confidence, [reason])


KEYWORDS = MatchPlan(keywords=("down", "not responding", "5xx"))


@pytest.mark.parametrize(
    ("fields", "confidence", "reason"),
    [
        (
            {"title": "Checkout DOWN", "description": "API is not\n  responding since 10:00"},
            1.0,
            "keywords found: 'down', 'not responding' (not found: '5xx')",
        ),
        (
            {"title": "Checkout down"},
            0.5,
            "keyword found: 'down' (not found: 'not responding', '5xx')",
        ),
        (
            {"title": "Slow", "service": "5xx-gateway"},
            0.5,
            "keyword found: '5xx' (not found: 'down', 'not responding')",
        ),
        # Whole words only: "downstream" and "breakdown" do not say "down".
        (
            {"title": "downstream breakdown", "description": "responding fine"},
            0.0,
            "none of the keywords found: 'down', 'not responding', '5xx'",
        ),
    ],
)
def test_keywords_are_whole_words_or_phrases_in_title_description_and_service(
    fields: dict[str, Any], confidence: float, reason: str
) -> None:
    result = match_runbook(KEYWORDS, incident(**fields))
    assert (result.confidence, result.reasons) == (confidence, [reason])


def test_one_keyword_found_of_one_is_all_of_them() -> None:
    result = match_runbook(MatchPlan(keywords=("disk",)), incident(title="Disk full"))
    assert result.confidence == 1.0
    assert result.reasons == ["keyword found: 'disk'"]


def test_regex_characters_in_keywords_are_literal() -> None:
    plan = MatchPlan(keywords=("c++", "a.b"))
    assert match_runbook(plan, incident(title="c++ crash")).confidence == 0.5
    assert match_runbook(plan, incident(title="axb")).confidence == 0.0


def test_confidence_is_the_mean_of_the_stated_criteria() -> None:
    plan = MatchPlan(keywords=("down", "5xx"), services=("checkout",), severities=("SEV1",))
    result = match_runbook(plan, incident(title="checkout down"))
    # severity 0, service 1, keywords 0.5 (one of two found)
    assert result.confidence == pytest.approx(0.5)
    assert result.reasons == [
        "severity SEV2 is not one of SEV1",
        "service 'checkout' is one of checkout",
        "keyword found: 'down' (not found: '5xx')",
    ]


def test_everything_matching_is_full_confidence() -> None:
    plan = MatchPlan(keywords=("down",), services=("checkout",), severities=("SEV2",))
    assert match_runbook(plan, incident(title="checkout down")).confidence == 1.0


def test_shipped_restart_runbook_fits_a_service_down_incident_best() -> None:
    plans = {
        name: compile_file(REPO / "yaml_workflows" / f"{name}.yaml").runbook
        for name in ("restart-systemd-service", "clear-disk-space", "disable-feature-flag")
    }
    down = incident(title="checkout service down", severity="SEV2")
    scores = {
        name: match_runbook(plan.match, down).confidence for name, plan in plans.items() if plan
    }
    assert max(scores, key=lambda name: scores[name]) == "restart-systemd-service"
    assert scores["restart-systemd-service"] > scores["clear-disk-space"]
