"""How good triage is, on the labelled data set: `python -m bench.triage_quality`.

Over tests/data/triage_incidents.jsonl (bench/triage_dataset.py makes it), with the
shipped rules (yaml_workflows/triage.yaml) and runbooks:

1. automatic closing at the default threshold (0.8): precision and recall of "closed as
   a false positive" against the labels — a real incident closed is the worst outcome;
2. the learned classifier's learning curve: trained on the first N operator verdicts of
   a random order, scored on a held-out third (accuracy, and how often it abstains);
3. runbook ranking: top-1 and top-3 accuracy on the real incidents that have a runbook;
4. the baseline of the same run: what closing on the rules' verdict alone would give,
   and what the old keyword-only match gives for top-1.

Exits 0 and prints the figures last.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dsl.compiler import compile_file
from dsl.runbook_plan import RunbookPlan
from services.runbook_match import match_runbook
from services.triage_classify import Evidence, IncidentFacts, PastAlert, classify, closes
from services.triage_learn import LabelledIncident, LearnedVote, predict, train
from services.triage_match import rank_runbooks

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "triage_incidents.jsonl"
CLOSE_THRESHOLD = 0.8
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
RUNBOOKS = ("restart-systemd-service", "clear-disk-space", "disable-feature-flag")
CURVE = (10, 20, 40, 80, 160)


@dataclass(frozen=True)
class Closing:
    precision: float
    recall: float
    closed: int
    wrongly_closed: list[str]


def load(path: Path = DATA) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def facts_of(row: dict[str, Any]) -> IncidentFacts:
    past = []
    for alert in row["facts"]["past"]:
        created = NOW - timedelta(minutes=alert["minutes_ago"])
        after = alert["resolved_after_seconds"]
        resolved = created + timedelta(seconds=after) if after is not None else None
        past.append(PastAlert(created, resolved, alert["by_source"]))
    return IncidentFacts(
        now=NOW,
        past=tuple(past),
        open_duplicates=tuple(row["facts"]["open_duplicates"]),
        maintenance=row["facts"]["maintenance"],
    )


def closing(rows: Sequence[dict[str, Any]], model: dict[str, Any] | None = None) -> Closing:
    """Closing on the rules, and on the learned classifier's vote too when `model` is given."""
    rules = compile_file(REPO / "yaml_workflows" / "triage.yaml").triage
    closed = []
    for row in rows:
        learned = predict(model, row["incident"])
        votes = [_evidence(learned)] if learned is not None else []
        result = classify(rules, row["incident"], facts_of(row), votes)
        if closes(result, CLOSE_THRESHOLD):
            closed.append(row)
    noise = [r for r in rows if r["label"] == "false_positive"]
    right = [r for r in closed if r["label"] == "false_positive"]
    wrong = [f"{r['id']} ({r['kind']})" for r in closed if r["label"] != "false_positive"]
    return Closing(
        precision=len(right) / len(closed) if closed else 1.0,
        recall=len(right) / len(noise) if noise else 1.0,
        closed=len(closed),
        wrongly_closed=wrong,
    )


def _evidence(vote: LearnedVote) -> Evidence:
    p = vote.p_false_positive
    verdict = "false_positive" if p >= 0.5 else "true_positive"
    return Evidence("learned", verdict, min(max(p, 1 - p), 0.99), vote.reason, vote=True)


def split(rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(held-out third, the rest) in a fixed random order."""
    order = list(rows)
    random.Random(7).shuffle(order)
    return order[: len(order) // 3], order[len(order) // 3 :]


def learned_model(pool: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    return train([LabelledIncident(r["incident"], r["label"] == "false_positive") for r in pool])


def learning_curve(rows: Sequence[dict[str, Any]]) -> list[tuple[int, float, float]]:
    """(verdicts seen, accuracy on the held-out third where it votes, share it abstains)."""
    held_out, pool = split(rows)
    curve = []
    for count in CURVE:
        seen = [
            LabelledIncident(r["incident"], r["label"] == "false_positive") for r in pool[:count]
        ]
        state = train(seen)
        votes = [(predict(state, r["incident"]), r["label"]) for r in held_out]
        cast = [(v, label) for v, label in votes if v is not None]
        correct = sum(
            1 for v, label in cast if (v.p_false_positive >= 0.5) == (label == "false_positive")
        )
        accuracy = correct / len(cast) if cast else 0.0
        curve.append((count, accuracy, 1 - len(cast) / len(votes)))
    return curve


def ranking(rows: Sequence[dict[str, Any]]) -> tuple[float, float, float, int]:
    """(top-1, top-3, keyword-only top-1, incidents) over real incidents with a runbook."""
    plans = _shipped_runbooks()
    cases = [r for r in rows if r["expected_runbook"]]
    top1 = top3 = keyword_top1 = 0
    for row in cases:
        ranked = [r.runbook_id for r in rank_runbooks(row["incident"], plans, {}, now=NOW)]
        top1 += ranked[0] == row["expected_runbook"]
        top3 += row["expected_runbook"] in ranked[:3]
        by_keywords = max(plans, key=lambda p: match_runbook(p.match, row["incident"]).confidence)
        keyword_top1 += by_keywords.id == row["expected_runbook"]
    count = len(cases)
    return top1 / count, top3 / count, keyword_top1 / count, count


def _shipped_runbooks() -> list[RunbookPlan]:
    plans = [compile_file(REPO / "yaml_workflows" / f"{name}.yaml").runbook for name in RUNBOOKS]
    return [p for p in plans if p is not None]


def main() -> None:
    rows = load()
    kinds = sorted({r["kind"].split("/")[0] for r in rows})
    print(f"{len(rows)} labelled incidents ({', '.join(kinds)})")
    close = closing(rows)
    held_out, pool = split(rows)
    alone, together = closing(held_out), closing(held_out, learned_model(pool))
    curve = learning_curve(rows)
    top1, top3, keyword_top1, cases = ranking(rows)
    print(f"wrongly closed: {', '.join(close.wrongly_closed) or 'none'}")
    print("learning curve (verdicts → held-out accuracy where it votes, abstains):")
    for count, accuracy, abstains in curve:
        print(f"  {count:4d} → {accuracy:.3f}, abstains {abstains:.0%}")
    print(f"automatic closing at {CLOSE_THRESHOLD}: {close.closed} closed")
    print(f"  precision {close.precision:.3f} (goal ≥ 0.95), recall {close.recall:.3f}")
    print(f"on the held-out third ({len(held_out)}), rules alone vs rules + learned")
    print(f"  ({len(pool)} verdicts): precision {alone.precision:.3f} → {together.precision:.3f}, ")
    print(f"  recall {alone.recall:.3f} → {together.recall:.3f}")
    print(f"runbook ranking over {cases} real incidents with a runbook:")
    print(f"  top-1 {top1:.3f}, top-3 {top3:.3f}; keyword match alone top-1 {keyword_top1:.3f}")
    print(f"  ratio top-1 ranking / keyword-only: {top1 / keyword_top1 if keyword_top1 else 0:.2f}")


if __name__ == "__main__":
    main()
