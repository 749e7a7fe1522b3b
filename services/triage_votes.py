"""The votes beside the rules: the org's learned classifier, and an LLM when the org names
one. Each is one piece of evidence with its reason; a vote that cannot be had (no model
yet, the LLM timed out or answered nonsense) is a note, and triage goes on without it.

An LLM's stated confidence is not calibrated: its vote counts at most LLM_MAX_CONFIDENCE.
No vote closes an incident by itself: a rule must say so too (triage_classify.closes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.llm import LlmError, LlmVote
from services.triage_classify import Evidence
from services.triage_learning import TriageLearner

LEARNED_ID = "learned"
LLM_ID = "llm"
LLM_MAX_CONFIDENCE = 0.75
_MAX_CONFIDENCE = 0.99  # a vote is never certain: certainty would outweigh every rule

LlmVoter = Callable[[str, str, Mapping[str, Any]], Awaitable[LlmVote]]  # org, connection


@dataclass(frozen=True)
class Votes:
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why a source gave no vote


class TriageVoters:
    def __init__(self, learner: TriageLearner, llm: LlmVoter | None = None) -> None:
        self._learner = learner
        self._llm = llm

    async def votes(
        self, org_id: str, incident: Mapping[str, Any], llm_connection: str | None
    ) -> Votes:
        votes = Votes()
        learned = await self._learner.vote(org_id, incident)
        if learned is not None:
            votes.evidence.append(_evidence(LEARNED_ID, learned.p_false_positive, learned.reason))
        if llm_connection and self._llm is not None:
            await self._ask_llm(org_id, llm_connection, incident, votes)
        return votes

    async def _ask_llm(
        self, org_id: str, connection: str, incident: Mapping[str, Any], votes: Votes
    ) -> None:
        assert self._llm is not None
        try:
            vote = await self._llm(org_id, connection, incident)
        except LlmError as err:
            votes.notes.append(f"the LLM ({connection}) gave no vote: {err}")
            return
        if vote.verdict == "uncertain":
            votes.notes.append(f"the LLM ({connection}) is uncertain: {vote.reason}")
            return
        confidence = min(vote.confidence, LLM_MAX_CONFIDENCE)
        p = confidence if vote.verdict == "false_positive" else 1 - confidence
        reason = f"the LLM ({connection}) says {_said(vote.verdict)}: {vote.reason}"
        votes.evidence.append(_evidence(LLM_ID, p, reason))


def _evidence(source: str, p_false_positive: float, reason: str) -> Evidence:
    verdict = "false_positive" if p_false_positive >= 0.5 else "true_positive"
    confidence = min(max(p_false_positive, 1 - p_false_positive), _MAX_CONFIDENCE)
    reason = f"{reason} (vote {confidence:.2f})"
    return Evidence(source, verdict, round(confidence, 4), reason, vote=True)


def _said(verdict: str) -> str:
    return "a false positive" if verdict == "false_positive" else "a real incident"
