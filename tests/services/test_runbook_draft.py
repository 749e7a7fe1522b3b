"""A draft runbook for an incident: it compiles with Fireline's own compiler, takes its
match from the incident, gates its change with a rollback, and keeps incident text as data
only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dsl.compiler import compile_text
from services.runbook_draft import FALLBACK_ID, draft_runbook, keywords_of
from tests.cli.test_ingest_cli import run_fireline

CHECKOUT = {
    "id": "inc_1",
    "title": "Checkout 5xx errors above 5%",
    "service": "checkout",
    "severity": "SEV2",
}


def compiled(incident: dict[str, Any], **kw: Any) -> Any:
    draft = draft_runbook(incident, **kw)
    result = compile_text(draft.yaml, draft.file_name)
    assert result.errors == [], result.errors
    assert result.runbook is not None
    return draft, result.runbook


def test_a_typical_incident_drafts_a_runbook_that_compiles_and_fits_it() -> None:
    draft, plan = compiled(CHECKOUT)

    assert draft.yaml.startswith("# Draft runbook written by Fireline from incident inc_1.")
    assert (draft.runbook_id, draft.file_name) == (
        "checkout-5xx-errors-above-5",
        "checkout-5xx-errors-above-5.yaml",
    )
    assert plan.match.keywords == ("checkout", "5xx")
    assert (plan.match.services, plan.match.severities) == (("checkout",), ("SEV2",))
    [change] = plan.steps
    assert change.requires_approval and change.rollback is not None
    assert [s.name for s in plan.prechecks] == ["look"]
    assert [s.name for s in plan.postchecks] == ["verify"]


@pytest.mark.parametrize(
    "title",
    [
        'it\'s "bad": {{ steps.look.stdout }} # not a comment',
        "{{ steps.x }}: # {% if 1 %}",
        "line one\nline two: $(rm -rf /)",
        "🚒 Feuer im Rechenzentrum",
        "x" * 500,
    ],
)
def test_hostile_titles_stay_data(title: str) -> None:
    draft, plan = compiled({"title": title, "service": "api"})

    commands = [s.run or "" for s in plan.all_steps()]
    assert all(title not in c and "rm -rf" not in c for c in commands)
    assert plan.name.startswith("Fix: ")
    assert title in plan.description
    assert len(draft.runbook_id) <= 60


def test_an_incident_with_nothing_but_a_title_still_compiles() -> None:
    _, plan = compiled({"title": "Down"})
    assert plan.match.services == ()
    draft, _ = compiled({})
    assert draft.runbook_id == FALLBACK_ID


def test_the_id_is_one_no_loaded_runbook_has() -> None:
    draft, plan = compiled({"title": "Disk full"}, taken={"disk-full", "disk-full-2"})
    assert draft.runbook_id == plan.id == "disk-full-3"


def test_severities_the_compiler_does_not_know_are_left_out() -> None:
    _, plan = compiled({"title": "Slow", "severity": "sev1"})
    assert plan.match.severities == ("SEV1",)
    _, plan = compiled({"title": "Slow", "severity": "critical"})
    assert plan.match.severities == ()


def test_the_incident_id_cannot_break_out_of_the_header_comment() -> None:
    draft, plan = compiled({**CHECKOUT, "id": "inc\nrunbook: {id: evil}"})
    assert plan.id == "checkout-5xx-errors-above-5"
    assert draft.yaml.splitlines()[1].startswith("# ")


def test_keywords_keep_title_order_and_drop_numbers_and_short_words() -> None:
    assert keywords_of("Payment API latency > 2s on eu-west-1 (500 ms)") == [
        "payment",
        "api",
        "latency",
        "eu-west-1",
    ]
    assert keywords_of("Checkout down") == ["checkout", "down"]


def test_fireline_lint_accepts_the_draft(tmp_path: Path) -> None:
    draft = draft_runbook(CHECKOUT)
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / draft.file_name).write_text(draft.yaml, encoding="utf-8")

    result = run_fireline("lint", str(tmp_path / "drafts"), data_dir=tmp_path / "data")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"runbook {draft.runbook_id}" in result.stdout
