"""Every runbook problem points at file:line:col and says what is wrong and what to do."""

import textwrap

import pytest

from dsl.compiler import CompileResult, compile_text
from tests.dsl.helpers import located

FILE = "rb.yaml"


def compile_runbook(text: str) -> CompileResult:
    return compile_text(textwrap.dedent(text).lstrip("\n"), FILE)


def errors_of(text: str) -> list[str]:
    result = compile_runbook(text)
    assert result.is_runbook
    assert result.runbook is None, "expected the runbook not to compile"
    assert result.plan is None
    return [line for line in located(result) if ": warning: " not in line]


def only_error(text: str) -> str:
    errors = errors_of(text)
    assert len(errors) == 1, errors
    return errors[0]


def compiles(text: str) -> CompileResult:
    result = compile_runbook(text)
    assert result.runbook is not None, located(result)
    return result


# --- the shape of the file --------------------------------------------------------------


def test_unknown_keys_suggest_the_closest_field():
    text = """
    runbook:
      id: rb
      target: {conection: web-1}
      steps:
        - name: restart
          run: systemctl restart app
          rollbak: systemctl start app
    """
    assert errors_of(text) == [
        "3:3: target: missing required field 'connection'",
        "3:12: target: unknown field 'conection'; did you mean 'connection'? (allowed: connection)",
        "7:7: steps[0]: unknown field 'rollbak'; did you mean 'rollback'? (allowed: connector, "
        "expect, idempotent, name, output_limit, provider, requires_approval, retry, rollback, "
        "run, timeout)",
    ]


def test_a_key_beside_runbook_and_missing_required_fields():
    text = """
    runbook:
      name: no id and no steps
    workflow: {}
    """
    assert errors_of(text) == [
        "1:1: runbook: missing required field 'id'",
        "1:1: runbook: missing required field 'steps'",
        "3:1: unknown field 'workflow' (allowed: runbook)",
    ]


def test_a_step_needs_run_or_provider_but_not_both():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      steps:
        - name: nothing
          timeout: 10s
        - name: both
          run: echo hi
          provider: {type: notify, with: {message: hi}}
    """
    assert errors_of(text) == [
        "5:7: steps[0]: step 'nothing' needs 'run' (a command) or 'provider' (a provider call)",
        "7:7: steps[1]: step 'both' has both 'run' and 'provider'; give exactly one",
    ]


def test_a_rollback_needs_run_or_provider_but_not_both():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      steps:
        - name: restart
          run: systemctl restart app
          rollback: {timeout: 1m}
    """
    assert only_error(text) == (
        "7:17: steps[0].rollback: a rollback needs 'run' (a command) or 'provider' "
        "(a provider call)"
    )


def test_command_only_fields_on_a_provider_call():
    text = """
    runbook:
      id: rb
      steps:
        - name: tell
          provider: {type: notify, with: {message: hi}}
          connector: local
          expect: {exit_code: 0}
    """
    assert only_error(text) == (
        "4:7: steps[0]: connector, expect: only for a command ('run'), not for a provider call"
    )


def test_bad_values_of_each_field():
    text = """
    runbook:
      id: Bad_Id
      match: {severities: [SEV1, sev9]}
      steps:
        - name: has space
          run: echo hi
          connector: telnet
          timeout: 2d
          output_limit: 2MiB
          expect: {exit_code: [0, 300], stdout_regex: "([a-z"}
          requires_approval: maybe
    """
    assert errors_of(text) == [
        "2:7: id: String should match pattern '^[a-z0-9][a-z0-9_-]*$'",
        "3:30: match.severities[1]: unknown severity 'sev9' (severities: SEV1, SEV2, SEV3, SEV4)",
        "5:13: steps[0].name: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_-]*$'",
        "7:18: steps[0].connector: Input should be 'local' or 'ssh'",
        "8:16: steps[0].timeout: must be between 1s and 1d, got 2d",
        "9:21: steps[0].output_limit: must be between 1 byte and 1MiB (1048576 bytes), "
        "got 2097152 bytes",
        "10:31: steps[0].expect.exit_code[1]: Input should be less than or equal to 255",
        "10:51: steps[0].expect.stdout_regex: invalid regular expression '([a-z': "
        "unterminated character set at position 1",
        "11:26: steps[0].requires_approval: Input should be a valid boolean, "
        "unable to interpret input",
    ]


def test_bad_durations_and_sizes_say_how_to_write_them():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      steps:
        - name: a
          run: echo hi
          timeout: soon
          output_limit: lots
    """
    assert errors_of(text) == [
        "7:16: steps[0].timeout: invalid duration 'soon': use a number of seconds or a "
        "duration such as 500ms, 30s, 2m, 1h, 1d",
        "8:21: steps[0].output_limit: invalid size 'lots': use bytes or a size such as "
        "64KiB or 1MiB",
    ]


# --- approval -----------------------------------------------------------------------------


def test_an_approval_role_that_does_not_exist():
    text = """
    runbook:
      id: rb
      approval:
        roles: [SRE_LEAD, sre_laed, ROOT]
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert errors_of(text) == [
        "4:23: approval.roles[1]: unknown role 'sre_laed'; did you mean 'SRE_LEAD'? "
        "(roles: ORG_ADMIN, SRE_LEAD, ONCALL_ENGINEER, ANALYST, VIEWER)",
        "4:33: approval.roles[2]: unknown role 'ROOT' "
        "(roles: ORG_ADMIN, SRE_LEAD, ONCALL_ENGINEER, ANALYST, VIEWER)",
    ]


def test_approval_timeouts_have_bounds():
    text = """
    runbook:
      id: rb
      approval:
        roles: [SRE_LEAD]
        timeout: 5s
        on_timeout: escalate
        escalate_to: [ORG_ADMIN]
        escalation_timeout: 8d
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert errors_of(text) == [
        "5:14: approval.timeout: must be between 10s and 7d, got 5s",
        "8:25: approval.escalation_timeout: must be between 10s and 7d, got 8d",
    ]


def test_escalate_needs_escalate_to():
    text = """
    runbook:
      id: rb
      approval: {roles: [SRE_LEAD], timeout: 15m, on_timeout: escalate}
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert only_error(text) == (
        "3:13: approval: on_timeout: escalate needs escalate_to: the roles asked after the timeout"
    )


def test_escalation_fields_with_reject_are_an_error():
    text = """
    runbook:
      id: rb
      approval:
        roles: [SRE_LEAD]
        on_timeout: reject
        escalate_to: [ORG_ADMIN]
        escalation_timeout: 1h
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert only_error(text) == (
        "4:5: approval: escalate_to and escalation_timeout only apply with on_timeout: escalate "
        "(on_timeout is reject)"
    )


def test_a_misspelt_on_timeout():
    text = """
    runbook:
      id: rb
      approval: {roles: [SRE_LEAD], on_timeout: escalte}
      steps: [{name: a, provider: {type: notify, with: {message: hi}}}]
    """
    assert only_error(text) == "3:45: approval.on_timeout: Input should be 'escalate' or 'reject'"


# --- steps across the runbook ----------------------------------------------------------


def test_duplicate_step_names_across_phases():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      prechecks: [{name: disk, run: df -h}]
      steps: [{name: restart, run: systemctl restart app}]
      postchecks: [{name: disk, run: df -h}]
    """
    assert only_error(text) == (
        "6:23: duplicate name 'disk': already used by precheck 'disk'; "
        "names must be unique across prechecks, steps and postchecks"
    )


def test_a_rollback_that_reads_a_later_step():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      steps:
        - name: stop
          run: systemctl stop app
          rollback: systemctl start app --after {{ steps.migrate.stdout }}
        - name: migrate
          run: app migrate
      postchecks:
        - name: health
          run: curl -fsS localhost
    """
    assert only_error(text) == (
        "7:17: step 'stop' rollback: references step 'migrate', which runs after it"
    )


def test_a_rollback_that_reads_its_own_step_or_a_postcheck():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      steps:
        - name: stop
          run: systemctl stop app
          rollback:
            run: |
              systemctl start app
              echo {{ steps.stop.stdout }} {{ steps.health.stdout }}
      postchecks:
        - name: health
          run: curl -fsS localhost
    """
    assert errors_of(text) == [
        "10:11: step 'stop' rollback: cannot read steps.stop: a rollback also runs when 'stop' "
        "failed or timed out, before it produced output",
        "10:11: step 'stop' rollback: references postcheck 'health', which runs after it",
    ]


def test_a_rollback_may_read_earlier_steps_and_prechecks():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      prechecks:
        - {name: state, run: systemctl is-active app}
      steps:
        - {name: version, run: app --version}
        - name: upgrade
          run: apt-get install -y app
          rollback: >-
            apt-get install -y app={{ steps.version.stdout | trim }}
            {{ steps.state.exit_code }}
    """
    result = compiles(text)
    assert result.diagnostics == []


def test_a_step_reading_a_later_or_unknown_step_or_itself():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      prechecks:
        - name: check
          run: echo {{ steps.work.stdout }} {{ steps.check.stdout }} {{ steps.wrok.stdout }}
      steps:
        - {name: work, run: echo hi}
    """
    assert errors_of(text) == [
        "6:12: precheck 'check': unknown step 'wrok'; did you mean 'work'? (known: check, work)",
        "6:12: precheck 'check': references step 'work', which runs after it",
        "6:12: precheck 'check': references itself: its output exists only after it ran",
    ]


def test_step_result_fields_depend_on_the_kind_of_step():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      prechecks:
        - {name: cmd, run: echo hi}
        - name: call
          provider: {type: http, with: {url: "http://flags/{{ steps.cmd.stdot }}"}}
      steps:
        - name: use
          run: echo {{ steps.call.stdout }} {{ steps.cmd.exit_code }} {{ steps.call.results }}
    """
    assert errors_of(text) == [
        "7:43: precheck 'call': precheck 'cmd' is a command: steps.cmd has no 'stdot'; "
        "did you mean 'stdout'? (fields: stdout, stderr, exit_code)",
        "10:12: step 'use': precheck 'call' is a provider call: steps.call has no 'stdout' "
        "(fields: results)",
    ]


def test_names_a_command_template_may_use():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      inputs: [{name: service, type: string}]
      consts: {port: 8080}
      steps:
        - name: a
          run: |
            echo {{ incident.title }} {{ inputs.service }} {{ consts.port }} {{ target.host }}
            echo {{ inputs.servce }} {{ consts.prot }} {{ target.hots }}
            echo {{ incidnet.title }} {{ results }} {{ providers.jira }} {{ now() }}
    """
    assert errors_of(text) == [
        "10:9: step 'a': unknown input 'servce'; did you mean 'service'? (declared: service)",
        "10:9: step 'a': unknown const 'prot'; did you mean 'port'? (declared: port)",
        "10:9: step 'a': target has no field 'hots'; did you mean 'host'? "
        "(fields: connection, host)",
        "11:9: step 'a': unknown name 'incidnet' in template; did you mean 'incident'? "
        "(allowed: consts, incident, inputs, steps, target, has(), now())",
        "11:9: step 'a': 'results' is not available in a runbook: read steps.<name>.results "
        "instead",
        "11:9: step 'a': 'providers' may only be used as a provider's config: "
        '"{{ providers.NAME }}"',
    ]


def test_target_is_undefined_without_a_target_and_steps_are_not_there_yet_for_it():
    text = """
    runbook:
      id: rb
      steps:
        - name: a
          run: echo {{ target.connection }}
          connector: local
    """
    assert only_error(text) == (
        "5:12: step 'a': 'target' is only defined when the runbook has target: {connection: ...}"
    )
    text = """
    runbook:
      id: rb
      target: {connection: "{{ steps.a.stdout }}"}
      steps: [{name: a, run: hostname}]
    """
    assert only_error(text) == (
        "3:25: target.connection: 'steps' is not available here: the target is resolved "
        "before any step runs"
    )


def test_a_command_needs_a_target_unless_it_runs_locally():
    text = """
    runbook:
      id: rb
      prechecks:
        - {name: here, run: df -h, connector: local}
      steps:
        - name: there
          run: systemctl restart app
          rollback: systemctl start app
        - name: remote
          run: uptime
          connector: ssh
    """
    message = (
        "runs a command but the runbook has no target; add target: "
        '{connection: "..."} or run it on the worker with connector: local'
    )
    assert errors_of(text) == [f"7:12: step 'there': {message}", f"10:12: step 'remote': {message}"]


def test_checks_do_not_roll_back_or_ask_for_approval():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      prechecks:
        - name: disk
          run: df -h
          rollback: echo undo
      steps: [{name: a, run: echo hi}]
      postchecks:
        - name: health
          run: curl -fsS localhost
          requires_approval: true
    """
    assert errors_of(text) == [
        "7:7: precheck 'disk': rollback only applies to steps: "
        "a precheck runs before anything changed",
        "12:7: postcheck 'health': requires_approval only applies to steps: "
        "a postcheck only verifies the result",
    ]


def test_a_retried_step_must_be_idempotent():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      steps:
        - name: restart
          run: systemctl restart app
          retry: {maximum_attempts: 3}
        - name: status
          run: systemctl is-active app
          idempotent: true
          retry: {maximum_attempts: 3}
    """
    assert only_error(text) == (
        "7:33: step 'restart': retry.maximum_attempts 3 would run it again after a failure; "
        "mark the step idempotent: true if that is safe, or drop the retry"
    )


# --- templates ----------------------------------------------------------------------------


def test_template_syntax_errors_in_commands_and_provider_parameters():
    text = """
    runbook:
      id: rb
      target: {connection: "{{ incident.ci "}
      steps:
        - name: a
          run: |
            echo ok
            echo {{ incident.title | nofilter }}
          rollback: echo {% if %}
        - name: b
          provider: {type: notify, with: {message: "{{ incident. }}"}}
    """
    assert errors_of(text) == [
        "3:25: template syntax error in target.connection: "
        "unexpected end of template, expected 'end of print statement'.",
        "8:9: step 'a': template syntax error in run: no filter named 'nofilter'",
        "9:17: step 'a': template syntax error in rollback: Expected an expression, got 'end of "
        "statement block'",
        "11:49: step 'b': template syntax error in provider.with.message: expected name or number",
    ]


def test_a_value_inside_shell_quotes_is_an_error():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      steps:
        - name: a
          run: |
            echo fine {{ incident.title }}
            logger "restarting {{ incident.service }}"
    """
    assert only_error(text).startswith(
        "8:9: step 'a': run: {{ incident.service }} is inside double quotes: Fireline already "
        "shell-quotes each value"
    )


def test_each_raw_use_is_a_warning_that_does_not_stop_the_plan():
    text = """
    runbook:
      id: rb
      target: {connection: web-1}
      consts: {flags: --now --quiet}
      steps:
        - name: a
          run: |
            systemctl restart {{ consts.flags | raw }} app
            echo {{ incident.title }}
            echo "{{ consts.flags | raw }}"
    """
    result = compiles(text)
    warning = "`| raw` disables shell quoting; make sure the value cannot come from an incident"
    assert located(result) == [
        f"8:9: warning: step 'a': run: {warning}",
        f"10:9: warning: step 'a': run: {warning}",
    ]
    assert str(result.warnings[0]) == f"{FILE}:8:9: warning: step 'a': run: {warning}"


# --- providers ------------------------------------------------------------------------------


def test_provider_calls_get_the_workflow_provider_checks():
    text = """
    runbook:
      id: rb
      steps:
        - name: flag
          provider:
            type: http
            with: {ulr: "http://flags/x", method: YEET}
          rollback:
            provider: {type: jiraa, with: {summary: x}}
        - name: tell
          provider: {type: slack, with: {message: hi}}
    """
    assert errors_of(text) == [
        "7:9: step 'flag': provider 'http' needs parameter 'url'",
        "7:16: step 'flag': unknown parameter 'ulr' for provider 'http'; did you mean 'url'? "
        "(known: body, headers, json, method, params, timeout, url)",
        "7:47: step 'flag': parameter 'method' must be one of GET, POST, PUT, PATCH, DELETE, "
        "HEAD, OPTIONS",
        "9:26: step 'flag' rollback: unknown provider type 'jiraa' (known: db, enrich, http, "
        "jira, notify, servicenow, slack)",
        "11:7: step 'tell': provider 'slack' needs config: \"{{ providers.NAME }}\" naming a "
        "connection",
    ]


def test_a_yaml_date_in_consts_or_parameters_must_be_quoted():
    text = """
    runbook:
      id: rb
      consts: {since: 2024-01-01}
      steps:
        - name: tell
          provider: {type: notify, with: {message: hi, title: 2024-05-01}}
    """
    assert errors_of(text) == [
        "3:19: YAML reads this value as a date; quote it to keep it as text",
        "6:59: YAML reads this value as a date; quote it to keep it as text",
    ]


@pytest.mark.parametrize("wrapper", ["runbook: [a, b]", "runbook:"])
def test_runbook_must_be_a_mapping(wrapper: str):
    result = compile_runbook(wrapper + "\n")
    assert result.is_runbook and result.runbook is None
    assert located(result)[0].startswith("1:")
    assert "runbook: expected a mapping" in located(result)[0]
