"""The triage rules file: every problem at file:line:col with what to do, the plan a clean
file compiles to, one triage file per directory, and `fireline lint` on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cli.lint import lint_command
from dsl.compiler import CompileResult, compile_file, compile_text, load_directory
from dsl.triage_plan import (
    Fired,
    PatternCondition,
    ResolvedBySource,
    TriageRulePlan,
    TriageRulesPlan,
    spelled_duration,
)
from services.workflow_registry import WorkflowRegistry
from tests.conftest import REPO
from tests.dsl.helpers import located
from tests.dsl.test_runbook_plan import RUNBOOK, WORKFLOW

FILE = "triage.yaml"
SHIPPED = REPO / "yaml_workflows" / "triage.yaml"

RULES = """\
triage:
  rules:
    - id: transient
      description: Resolves by itself
      verdict: false_positive
      confidence: 0.85
      when:
        resolved_by_source_within: 5m
        times_at_least: 3
        within: 24h
    - id: flapping
      verdict: false_positive
      confidence: 0.75
      when: {fired_at_least: 6, within: 1h}
    - id: production-sev1
      verdict: true_positive
      confidence: 0.9
      when: {severity: SEV1, environment: "(?i)prod|production", tag: "team:.*"}
    - id: noise
      verdict: false_positive
      confidence: 0.6
      when: {text: "(?i)canary", duplicate_of_open: true, in_maintenance: true}
"""


def compile_rules(text: str) -> CompileResult:
    result = compile_text(textwrap.dedent(text).lstrip("\n"), FILE)
    assert result.is_triage and not result.is_runbook
    assert result.plan is None and result.runbook is None
    return result


def errors_of(text: str) -> list[str]:
    result = compile_rules(text)
    assert result.triage is None, "expected the rules not to compile"
    return [line for line in located(result) if ": warning: " not in line]


def only_error(text: str) -> str:
    errors = errors_of(text)
    assert len(errors) == 1, errors
    return errors[0]


def rule(when: str, *, confidence: str = "0.8", verdict: str = "false_positive") -> str:
    """A file of one rule `r`, its `when` written at line 6."""
    return (
        "triage:\n  rules:\n    - id: r\n"
        f"      verdict: {verdict}\n      confidence: {confidence}\n      when: {when}\n"
    )


# --- a clean file -------------------------------------------------------------------------


def test_a_clean_file_compiles_to_the_plan() -> None:
    result = compile_rules(RULES)
    assert result.diagnostics == []
    assert result.kind == "triage rules" and result.definition_id is None
    assert result.triage == TriageRulesPlan(
        rules=(
            TriageRulePlan(
                id="transient",
                description="Resolves by itself",
                verdict="false_positive",
                confidence=0.85,
                line=3,
                resolved_by_source=ResolvedBySource(300.0, 3, 86400.0),
            ),
            TriageRulePlan(
                id="flapping",
                description="",
                verdict="false_positive",
                confidence=0.75,
                line=11,
                fired=Fired(6, 3600.0),
            ),
            TriageRulePlan(
                id="production-sev1",
                description="",
                verdict="true_positive",
                confidence=0.9,
                line=15,
                patterns=(
                    PatternCondition("environment", "(?i)prod|production"),
                    PatternCondition("severity", "SEV1"),
                    PatternCondition("tag", "team:.*"),
                ),
            ),
            TriageRulePlan(
                id="noise",
                description="",
                verdict="false_positive",
                confidence=0.6,
                line=19,
                patterns=(PatternCondition("text", "(?i)canary"),),
                duplicate_of_open=True,
                in_maintenance=True,
            ),
        ),
        source_path=FILE,
    )


def test_the_shipped_rules_compile_clean() -> None:
    result = compile_file(SHIPPED)
    assert result.diagnostics == [], [str(d) for d in result.diagnostics]
    assert result.triage is not None
    assert [r.id for r in result.triage.rules] == [
        "transient",
        "flapping",
        "non-production",
        "synthetic",
        "duplicate",
        "maintenance",
        "production-sev1",
    ]
    assert all(r.description for r in result.triage.rules)


def test_a_severity_no_incident_can_have_warns_but_compiles() -> None:
    result = compile_rules(rule("{severity: sev1}"))
    assert result.triage is not None
    assert located(result) == [
        "6:24: warning: rule 'r': severity 'sev1' matches none of SEV1, SEV2, SEV3, SEV4 "
        "in full, so the rule never applies"
    ]


@pytest.mark.parametrize(
    ("seconds", "spelled"),
    [(300, "5m"), (86400, "1d"), (5400, "1h30m"), (90, "1m30s"), (0.5, "0.5s"), (45, "45s")],
)
def test_durations_are_spelled_as_an_author_writes_them(seconds: float, spelled: str) -> None:
    assert spelled_duration(seconds) == spelled


# --- the shape of the file ---------------------------------------------------------------


def test_the_file_needs_rules_and_nothing_beside_them() -> None:
    assert errors_of("triage:\n") == ["1:8: triage: expected a mapping, got nothing"]
    assert errors_of("triage: {rules: []}\nextra: 1\n") == [
        "1:17: rules: needs at least one rule",
        "2:1: unknown field 'extra' (allowed: triage)",
    ]


def test_a_rule_needs_its_fields() -> None:
    assert errors_of("triage:\n  rules:\n    - {id: r}\n") == [
        "3:7: rules[0]: missing required field 'verdict'",
        "3:7: rules[0]: missing required field 'confidence'",
        "3:7: rules[0]: missing required field 'when'",
    ]


def test_an_unknown_condition_suggests_the_closest() -> None:
    assert only_error(rule("{enviroment: prod}")) == (
        "6:14: rules[0].when: unknown field 'enviroment'; did you mean 'environment'? "
        "(allowed: description, duplicate_of_open, environment, fired_at_least, "
        "in_maintenance, region, resolved_by_source_within, service, severity, source_type, "
        "tag, team, text, times_at_least, title, within)"
    )


def test_rule_ids_are_lowercase_words_and_unique() -> None:
    text = """
    triage:
      rules:
        - {id: Not_Ok, verdict: false_positive, confidence: 0.8, when: {title: x}}
        - {id: same, verdict: false_positive, confidence: 0.8, when: {title: x}}
        - {id: same, verdict: true_positive, confidence: 0.8, when: {title: y}}
    """
    assert errors_of(text) == [
        "3:12: rules[0].id: invalid rule id 'Not_Ok': use lowercase letters, digits and '-' "
        "(at most 100)",
        "5:12: duplicate rule id 'same': already used by rules[1]",
    ]


def test_the_verdict_is_one_of_two() -> None:
    assert only_error(rule("{title: x}", verdict="false")) == (
        "4:16: rules[0].verdict: Input should be 'false_positive' or 'true_positive'"
    )


@pytest.mark.parametrize("confidence", ["0.5", "1", "1.2", "0"])
def test_confidence_is_above_a_half_and_below_one(confidence: str) -> None:
    assert only_error(rule("{title: x}", confidence=confidence)) == (
        "5:19: rules[0].confidence: must be above 0.5 and below 1 (how sure this rule alone "
        f"is), got {float(confidence)}"
    )


def test_confidence_is_a_number() -> None:
    assert only_error(rule("{title: x}", confidence="'0.8'")) == (
        "5:19: rules[0].confidence: Input should be a valid number"
    )


def test_an_empty_when_would_apply_to_every_incident() -> None:
    assert only_error(rule("{}")).startswith(
        "6:13: rule 'r': when needs at least one condition, or the rule would call every "
        "incident the same (conditions: title, description,"
    )
    assert only_error(rule("")) == "6:12: rules[0].when: expected a mapping, got nothing"


def test_a_bad_regex_says_why() -> None:
    assert only_error(rule('{environment: "(prod"}')) == (
        "6:27: rules[0].when.environment: invalid regular expression '(prod': missing ), "
        "unterminated subpattern at position 0"
    )
    assert only_error(rule('{text: ""}')) == (
        "6:20: rules[0].when.text: must not be empty: write what must match"
    )


def test_counts_need_a_window() -> None:
    assert only_error(rule("{fired_at_least: 6}")) == (
        "6:14: rule 'r': fired_at_least needs within: the window it counts in "
        "(e.g. 24h, at most 7d)"
    )
    assert only_error(rule("{resolved_by_source_within: 5m, times_at_least: 3}")) == (
        "6:14: rule 'r': resolved_by_source_within needs within: the window it counts in "
        "(e.g. 24h, at most 7d)"
    )


def test_times_at_least_counts_resolved_alerts_only() -> None:
    assert only_error(rule("{times_at_least: 3, within: 1h}")) == (
        "6:14: rule 'r': times_at_least counts earlier alerts resolved by their source: add "
        "resolved_by_source_within (e.g. 5m), or use fired_at_least to count firings"
    )
    assert only_error(rule("{resolved_by_source_within: 5m, within: 1h}")) == (
        "6:14: rule 'r': resolved_by_source_within needs times_at_least: how many such alerts "
        "it takes"
    )


def test_a_window_without_a_count_counts_nothing() -> None:
    assert only_error(rule("{title: x, within: 1h}")) == (
        "6:24: rule 'r': within only applies with fired_at_least or resolved_by_source_within"
    )


def test_counts_and_durations_have_bounds() -> None:
    assert only_error(rule("{fired_at_least: 1, within: 1h}")) == (
        "6:30: rules[0].when.fired_at_least: must be at least 2: this alert is one of them, got 1"
    )
    text = rule("{resolved_by_source_within: 0s, times_at_least: 0, within: 8d}")
    assert errors_of(text) == [
        "6:41: rules[0].when.resolved_by_source_within: must be longer than 0s",
        "6:61: rules[0].when.times_at_least: must be at least 1, got 0",
        "6:72: rules[0].when.within: must be longer than 0s and at most 7d: triage reads the "
        "last 7d of alerts, got 8d",
    ]
    assert only_error(rule("{fired_at_least: 2, within: soon}")) == (
        "6:41: rules[0].when.within: invalid duration 'soon': use a number of seconds or a "
        "duration such as 500ms, 30s, 2m, 1h, 1d"
    )
    assert only_error(rule("{fired_at_least: '3', within: 1h}")) == (
        "6:30: rules[0].when.fired_at_least: Input should be a valid integer"
    )


def test_flags_are_only_true() -> None:
    assert only_error(rule("{duplicate_of_open: false}")) == (
        "6:33: rules[0].when.duplicate_of_open: only true is allowed, got false: leave the "
        "condition out when it does not matter"
    )


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = """
    triage:
      rules:
        - id: a
          verdict: false_positive
          confidence: 0.99
          when: {fired_at_least: 3, title: "("}
        - id: a
          verdict: true_positive
          confidence: 0.7
          when: {times_at_least: 1}
    """
    assert errors_of(text) == [
        "6:14: rule 'a': fired_at_least needs within: the window it counts in "
        "(e.g. 24h, at most 7d)",
        "6:40: rules[0].when.title: invalid regular expression '(': missing ), unterminated "
        "subpattern at position 0",
        "7:11: duplicate rule id 'a': already used by rules[0]",
        "10:14: rule 'a': times_at_least counts earlier alerts resolved by their source: add "
        "resolved_by_source_within (e.g. 5m), or use fired_at_least to count firings",
    ]


# --- one triage file, kept apart from workflows and runbooks ------------------------------


def test_the_registry_keeps_the_first_triage_file_and_reports_a_second(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(WORKFLOW % "announce")
    (tmp_path / "b.yaml").write_text(RUNBOOK)
    (tmp_path / "c-triage.yaml").write_text(RULES)
    (tmp_path / "d-triage.yaml").write_text(rule("{title: x}"))
    registry = WorkflowRegistry(tmp_path, tmp_path / "providers.yaml")
    (entry,) = registry.reload()
    assert entry.workflow_id == "announce"
    assert [r.runbook_id for r in registry.runbooks] == ["restart-app"]
    rules = registry.triage_rules()
    assert rules is not None and rules.source_path == str(tmp_path / "c-triage.yaml")
    first, second = registry.triage_files
    assert first.errors == () and second.plan is None
    assert second.errors == (
        f"{tmp_path / 'd-triage.yaml'}:1:1: a second triage rules file: the rules in "
        f"{tmp_path / 'c-triage.yaml'} apply and this file is ignored; keep every triage rule "
        "in one file",
    )


def test_no_rules_when_the_triage_file_has_errors_or_is_missing(tmp_path: Path) -> None:
    registry = WorkflowRegistry(tmp_path, tmp_path / "providers.yaml")
    registry.reload()
    assert registry.triage_rules() is None
    (tmp_path / "triage.yaml").write_text(rule("{}"))
    registry.reload()
    assert registry.triage_rules() is None
    assert registry.triage_files[0].errors[0].startswith(f"{tmp_path / 'triage.yaml'}:6:13: ")
    assert registry.entries == [] and registry.runbooks == []


def test_a_triage_file_has_no_id_to_clash_with(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(RUNBOOK)
    (tmp_path / "triage.yaml").write_text(RULES)
    assert [located(r) for r in load_directory(tmp_path)] == [[], []]


# --- fireline lint ------------------------------------------------------------------------


def test_lint_prints_the_rules_and_their_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a-triage.yaml").write_text(RULES)
    Path("b-triage.yaml").write_text(rule("{fired_at_least: 6}"))
    assert lint_command([Path(".")]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "a-triage.yaml: ok — triage rules, 4 rules",
        "b-triage.yaml:6:14: rule 'r': fired_at_least needs within: the window it counts in "
        "(e.g. 24h, at most 7d)",
        "b-triage.yaml:1:1: a second triage rules file: the rules in a-triage.yaml apply and "
        "this file is ignored; keep every triage rule in one file",
        "2 files checked: 1 ok, 2 errors, 0 warnings",
    ]


def test_lint_of_the_shipped_rules(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    assert lint_command([Path("yaml_workflows/triage.yaml")]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "yaml_workflows/triage.yaml: ok — triage rules, 7 rules",
        "1 file checked: 1 ok, 0 errors, 0 warnings",
    ]
