from pathlib import Path

import pytest

from cli.lint import lint_command
from core.settings import Settings

GOOD = """\
workflow:
  id: good
  triggers: [{type: incident}]
  steps:
    - name: one
      provider: {type: notify, with: {message: hi}}
    - name: two
      provider: {type: notify, with: {message: "{{ steps.one.status }}"}}
  actions:
    - name: three
      provider: {type: notify, with: {message: bye}}
"""

BAD = """\
workflow:
  id: bad
  triggers: [{type: incident}]
  steps:
    - name: one
      provider: {type: notify, with: {message: hi, titel: x}}
"""

WARNS = """\
workflow:
  id: warns
  triggers: [{type: incident}]
  steps:
    - name: one
      if: incident.severity == 'SEV1'
      provider: {type: notify, with: {message: hi}}
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def output_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_clean_file_prints_a_summary_and_exits_zero(workdir, capsys):
    (workdir / "good.yaml").write_text(GOOD)
    assert lint_command([Path("good.yaml")]) == 0
    ok, totals = output_lines(capsys)
    assert ok.startswith("good.yaml: ok — workflow good, 2 steps, 1 action, 1 trigger, plan ")
    assert len(ok.rsplit(" ", 1)[1]) == 16
    assert totals == "1 file checked: 1 ok, 0 errors, 0 warnings"


def test_errors_are_printed_as_file_line_col_and_exit_one(workdir, capsys):
    (workdir / "bad.yaml").write_text(BAD)
    assert lint_command([Path("bad.yaml")]) == 1
    error, totals = output_lines(capsys)
    assert error.startswith("bad.yaml:6:52: step 'one': unknown parameter 'titel'")
    assert totals == "1 file checked: 0 ok, 1 error, 0 warnings"


def test_warnings_are_marked_and_do_not_fail(workdir, capsys):
    (workdir / "warns.yaml").write_text(WARNS)
    assert lint_command([Path("warns.yaml")]) == 0
    warning, ok, totals = output_lines(capsys)
    assert warning.startswith("warns.yaml:6:11: warning: step 'one': condition")
    assert ok.startswith("warns.yaml: ok — workflow warns, 1 step, 1 trigger")
    assert totals == "1 file checked: 1 ok, 0 errors, 1 warning"


from tests.dsl.test_runbook_plan import RUNBOOK  # noqa: E402


def test_directories_are_expanded_with_their_runbooks(workdir, capsys):
    flows = workdir / "flows"
    flows.mkdir()
    (flows / "a.yaml").write_text(GOOD)
    (flows / "b.yml").write_text(BAD)
    (flows / "runbook.yaml").write_text(RUNBOOK)
    assert lint_command([Path("flows")]) == 1
    lines = output_lines(capsys)
    assert lines[0].startswith("flows/a.yaml: ok")
    assert lines[1].startswith("flows/b.yml:6:52: ")
    assert lines[2].startswith("flows/runbook.yaml: ok — runbook restart-app")
    assert lines[3] == "3 files checked: 2 ok, 1 error, 0 warnings"


def test_a_broken_runbook_is_an_error_at_its_line(workdir, capsys):
    (workdir / "rb.yaml").write_text("runbook:\n  id: restart\n")
    assert lint_command([Path("rb.yaml")]) == 1
    assert output_lines(capsys)[0].startswith("rb.yaml:1:1: runbook: missing required field")


def test_missing_path_is_an_error(workdir, capsys):
    assert lint_command([Path("nope.yaml")]) == 1
    assert output_lines(capsys)[0] == "nope.yaml: no such file or directory"


def test_duplicate_ids_across_arguments(workdir, capsys):
    (workdir / "a.yaml").write_text(GOOD)
    (workdir / "b.yaml").write_text(GOOD)
    assert lint_command([Path("a.yaml"), Path("b.yaml"), Path("a.yaml")]) == 1
    lines = output_lines(capsys)
    assert lines[1] == "b.yaml:2:7: duplicate workflow id 'good': already defined in a.yaml"
    assert lines[-1] == "2 files checked: 1 ok, 1 error, 0 warnings"


def test_default_path_is_the_settings_workflows_dir(workdir, capsys, monkeypatch):
    flows = workdir / "configured"
    flows.mkdir()
    (flows / "good.yaml").write_text(GOOD)
    monkeypatch.setenv("FIRELINE_WORKFLOWS_DIR", str(flows))
    assert Settings().workflows_dir == flows
    assert lint_command([]) == 0
    assert output_lines(capsys)[0].startswith("configured/good.yaml: ok")
