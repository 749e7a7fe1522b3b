"""Command templates: every interpolated value reaches the shell as one literal word."""

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsl.shell import quoting_problems, raw_uses, render_command
from dsl.templates import TemplateError

HOSTILE = [
    "x; touch {marker}",
    "$(touch {marker})",
    "`touch {marker}`",
    "it's \"quoted\" 'twice'",
    "line one\ntouch {marker}\nline three",
    "a && touch {marker} || true",
    "--help",
    "*",
    "",
]


def sh(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", command], capture_output=True, text=True, cwd=cwd, check=False
    )


@pytest.mark.parametrize("template", HOSTILE)
def test_a_hostile_incident_value_is_printed_literally_and_runs_nothing(tmp_path, template):
    marker = tmp_path / "pwned"
    value = template.format(marker=marker)
    (tmp_path / "some-file").write_text("a glob must not expand to me")
    command = render_command("printf '%s\\n' {{ incident.title }}", {"incident": {"title": value}})
    result = sh(command, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == value + "\n"
    assert not marker.exists()


def test_each_value_is_one_argument_even_with_spaces(tmp_path):
    command = render_command("printf '<%s>' {{ a }} {{ b }}", {"a": "two words", "b": "  padded  "})
    assert sh(command, tmp_path).stdout == "<two words><  padded  >"


def test_non_strings_render_as_safe_text(tmp_path):
    values = {"n": 85, "f": 1.5, "yes": True, "none": None, "items": ["a b", 1]}
    command = render_command(
        "printf '<%s>' {{ n }} {{ f }} {{ yes }} {{ none }} {{ items }}", values
    )
    assert command == "printf '<%s>' 85 1.5 true '' '[\"a b\", 1]'"
    assert sh(command, tmp_path).stdout == '<85><1.5><true><><["a b", 1]>'


def test_literal_text_of_the_template_is_left_alone():
    command = render_command("df -h {{ path }} | tail -n 1 > /dev/null", {"path": "/var"})
    assert command == "df -h /var | tail -n 1 > /dev/null"


def test_raw_passes_the_value_through_unchanged(tmp_path):
    marker = tmp_path / "ran"
    command = render_command("{{ snippet | raw }}", {"snippet": f"touch {marker}"})
    assert command == f"touch {marker}"
    sh(command, tmp_path)
    assert marker.exists()


def test_raw_must_be_the_last_step_or_the_value_is_quoted_again():
    values = {"v": "a b"}
    assert render_command("echo {{ v | raw | upper }}", values) == "echo 'A B'"
    assert render_command("echo {{ v | raw ~ '!' }}", values) == "echo 'a b!'"


def test_hyphenated_step_names_and_now_work_as_in_workflows():
    context = {
        "steps": {"safe-directory": {"stdout": "/var/tmp/x y\n"}},
        "now": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    }
    command = render_command(
        "find {{ steps.safe-directory.stdout | trim }} -newermt {{ now().date() }}", context
    )
    assert command == "find '/var/tmp/x y' -newermt 2024-05-06"


def test_an_undefined_value_is_an_error_not_an_empty_word():
    with pytest.raises(TemplateError, match="undefined: 'dict object' has no attribute 'ci'"):
        render_command("ssh {{ incident.ci }}", {"incident": {}})
    with pytest.raises(TemplateError, match="undefined"):
        render_command("echo {{ missing | raw }}", {})


def test_the_sandbox_still_applies():
    with pytest.raises(TemplateError, match="not allowed"):
        render_command("echo {{ v.__class__.__mro__ }}", {"v": "x"})


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ('echo "{{ v }}"', "inside double quotes"),
        ("echo '{{ v }}'", "inside single quotes"),
        ("sh -c 'echo {{ v }}'", "inside single quotes"),
        ("cat <<EOF\n{{ v }}\nEOF", "after a here-document"),
    ],
)
def test_a_value_inside_quotes_is_refused_because_quoting_cannot_hold(tmp_path, template, reason):
    marker = tmp_path / "pwned"
    with pytest.raises(TemplateError, match=reason):
        render_command(template, {"v": f"$(touch {marker})"})
    assert not marker.exists()


@pytest.mark.parametrize(
    "template",
    [
        "echo {{ v }}",
        'echo "$(basename {{ v }})"',
        "echo `basename {{ v }}`",
        "cat <<< {{ v }}",
        "# don't worry\necho {{ v }}",
        "test \"$x\" = 'y' && echo {{ v }}",
        'echo "{{ v | raw }}"',
    ],
)
def test_places_where_quoting_holds_are_accepted(template):
    assert quoting_problems(template) == []


def test_the_quoting_problem_names_the_line_inside_the_template():
    (problem,) = quoting_problems('echo ok\necho "{{ v }}"')
    assert problem.line == 2
    assert problem.message.startswith("{{ v }} is inside double quotes: ")


def test_raw_uses_are_found_with_their_lines():
    assert raw_uses("echo {{ a | raw }}\necho {{ b }}\necho {{ c|raw }}") == [1, 3]
    assert raw_uses("echo {{ a }}") == []
