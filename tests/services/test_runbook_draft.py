"""A draft runbook for an incident: it compiles with Fireline's own compiler, takes its
match from the incident, gates its change with a rollback, and keeps incident text as data
only."""

from __future__ import annotations

from typing import Any

import pytest

from dsl.compiler import compile_text
from services.runbook_draft import FALLBACK_ID, draft_runbook


def compiled(incident: dict[str, Any], **kw: Any) -> Any:
    draft = draft_runbook(incident, **kw)
    result = compile_text(draft.yaml, draft.file_name)
    assert result.errors == [], result.errors
    assert result.runbook is not None
    return draft, result.runbook


def test_a_typical_incident_drafts_a_runbook_that_compiles_and_fits_it() -> None:
    incident = {
        "id": "inc_1",
        "title": "Checkout 5xx errors above 5%",
        "service": "checkout",
        "severity": "SEV2",
    }
    draft, plan = compiled(incident)

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
    assert len(draft.runbook_id) <= 60


def test_an_incident_with_nothing_but_a_title_still_compiles() -> None:
    _, plan = compiled({"title": "Down"})
    assert plan.match.services == ()
    draft, _ = compiled({})
    assert draft.runbook_id == FALLBACK_ID


def test_the_id_is_one_no_loaded_runbook_has() -> None:
    draft, plan = compiled({"title": "Disk full"}, taken={"disk-full", "disk-full-2"})
    assert draft.runbook_id == plan.id == "disk-full-3"
