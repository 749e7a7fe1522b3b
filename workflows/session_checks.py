"""Pure decisions of a runbook session: did a command meet its `expect`, how sure is the fix.

Used by the workflow and by the command activity (which fails an attempt whose result
misses the expectation, so the step's retry policy applies to it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dsl.runbook_plan import ExpectPlan
from workflows.session_models import CommandOutcome, OutcomeResult, StepState

# A session whose checks all passed resolves the incident from this confidence up.
RESOLVED_CONFIDENCE = 0.8
# Without postchecks nothing proves the fix worked: the session cannot claim "resolved"
# on its own (1.0 x 0.75 stays below RESOLVED_CONFIDENCE).
NO_POSTCHECKS_FACTOR = 0.75


def unmet_expectation(expect: ExpectPlan, outcome: CommandOutcome) -> str | None:
    """Why the result does not meet `expect`; None when it does."""
    if outcome.timed_out:
        return f"timed out after {outcome.duration_seconds:.0f}s"
    if outcome.exit_code not in expect.exit_codes:
        wanted = " or ".join(str(code) for code in expect.exit_codes)
        return f"exit code {outcome.exit_code}, expected {wanted}{_stderr_hint(outcome)}"
    if expect.stdout_contains is not None and expect.stdout_contains not in outcome.stdout:
        return f"stdout does not contain {expect.stdout_contains!r}"
    if expect.stdout_regex is not None and re.search(expect.stdout_regex, outcome.stdout) is None:
        return f"stdout does not match /{expect.stdout_regex}/"
    return None


def _stderr_hint(outcome: CommandOutcome) -> str:
    last = outcome.stderr.strip().splitlines()[-1:] if outcome.stderr.strip() else []
    return f" ({last[0][:200]})" if last else ""


def verify(
    steps: Sequence[StepState], match_confidence: float, has_postchecks: bool
) -> tuple[OutcomeResult, float]:
    """The outcome of a session that ran to the end, and its confidence.

    confidence = match confidence x fraction of steps and postchecks that succeeded
    (x NO_POSTCHECKS_FACTOR without postchecks). Resolved needs every one to have
    succeeded and a confidence of at least RESOLVED_CONFIDENCE; otherwise in_progress.
    """
    checked = [s for s in steps if s.phase in ("step", "postcheck")]
    passed = sum(1 for s in checked if s.status == "succeeded")
    fraction = passed / len(checked) if checked else 0.0
    factor = 1.0 if has_postchecks else NO_POSTCHECKS_FACTOR
    confidence = round(max(0.0, min(1.0, match_confidence)) * fraction * factor, 4)
    all_passed = bool(checked) and passed == len(checked)
    if all_passed and confidence >= RESOLVED_CONFIDENCE:
        return "resolved", confidence
    return "in_progress", confidence


def failed_confidence(steps: Sequence[StepState], match_confidence: float) -> float:
    """Confidence reported for a session that failed or rolled back (informational)."""
    checked = [s for s in steps if s.phase in ("step", "postcheck")]
    if not checked:
        return 0.0
    passed = sum(1 for s in checked if s.status == "succeeded")
    return round(max(0.0, min(1.0, match_confidence)) * passed / len(checked), 4)


def tail(text: str, limit: int) -> str:
    """The last `limit` characters of `text`."""
    return text if len(text) <= limit else text[-limit:]
