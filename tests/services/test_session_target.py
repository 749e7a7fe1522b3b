"""Target resolution: each rule, the order they apply in, and the errors that say what to do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.errors import InvalidInputError
from dsl.plan import InputPlan
from dsl.runbook_plan import RunbookPlan
from services.connections import ConnectionKind, ConnectionView, CredentialKind
from services.session_target import LOCAL_RULE, NO_TARGET_RULE, resolve_target
from workflows.session_models import SessionTarget

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def conn(
    name: str, host: str | None = None, kind: ConnectionKind = ConnectionKind.SSH
) -> ConnectionView:
    return ConnectionView(
        name=name,
        kind=kind,
        host=host,
        port=22 if kind is ConnectionKind.SSH else None,
        username="ops" if kind is ConnectionKind.SSH else None,
        tags=[],
        environment=None,
        database=None,
        host_key=None,
        known_hosts=None,
        has_credential=False,
        credential_kind=CredentialKind.NONE,
        created_at=NOW,
        updated_at=NOW,
    )


WEB = conn("web-01", "web-01.prod.example")
DB = conn("db-01", "10.0.0.5")
WORKER = conn("worker", kind=ConnectionKind.LOCAL)
FLAGS = conn("flags", "flags.example", kind=ConnectionKind.HTTP)
ALL = [WEB, DB, WORKER, FLAGS]


def runbook(target: str | None = "{{ inputs.host }}", **fields: Any) -> RunbookPlan:
    inputs = (InputPlan(name="host", default=""),)
    return RunbookPlan(id="fix", name="Fix", target_connection=target, inputs=inputs, **fields)


def incident(**fields: Any) -> dict[str, Any]:
    return {
        "id": "inc_1",
        "title": "Checkout down",
        "description": None,
        "service": "checkout",
        "custom_fields": {},
        "enrichments": {},
        **fields,
    }


def resolve(
    plan: RunbookPlan | None = None,
    inc: dict[str, Any] | None = None,
    inputs: dict[str, Any] | None = None,
    requested: str | None = None,
    connections: list[ConnectionView] | None = None,
) -> SessionTarget:
    return resolve_target(
        plan or runbook(),
        inc or incident(),
        inputs or {},
        ALL if connections is None else connections,
        requested,
    )


# --- a. the connection named at start ----------------------------------------------------


def test_a_requested_connection_wins_over_everything() -> None:
    target = resolve(
        inputs={"host": "web-01"},
        inc=incident(description="db-01 is slow", custom_fields={"ci_association": "web-01"}),
        requested="db-01",
    )
    assert target == SessionTarget(
        connection="db-01",
        host="10.0.0.5",
        rule="connection 'db-01' named when the session was started",
    )


def test_a_requested_connection_must_exist() -> None:
    with pytest.raises(InvalidInputError) as err:
        resolve(requested="web-02")
    message = str(err.value)
    assert "no connection named 'web-02'" in message
    assert "POST /v1/connections" in message


def test_a_requested_connection_must_run_commands() -> None:
    with pytest.raises(InvalidInputError, match="'flags' is a connection of kind http"):
        resolve(requested="flags")


def test_a_requested_local_connection_runs_on_the_worker_and_says_so() -> None:
    target = resolve(requested="worker")
    assert (target.connection, target.host) == (None, None)
    assert target.rule == (
        "connection 'worker' named when the session was started: connection 'worker' is "
        "local, so commands run on the worker"
    )


# --- b. the runbook's target template ------------------------------------------------------


def test_b_template_names_a_connection() -> None:
    target = resolve(
        inputs={"host": "web-01"}, inc=incident(custom_fields={"ci_association": "db-01"})
    )
    assert target == SessionTarget(
        connection="web-01",
        host="web-01.prod.example",
        rule="the runbook's target template '{{ inputs.host }}' gave 'web-01'",
    )


def test_b_template_may_give_a_host_and_reads_the_incident() -> None:
    plan = runbook("{{ incident.ci }}")
    target = resolve(plan, incident(enrichments={"ci": "10.0.0.5"}))
    assert target.connection == "db-01"
    assert (
        target.rule
        == "the runbook's target template '{{ incident.ci }}' gave '10.0.0.5', the host of 'db-01'"
    )


def test_b_template_reads_input_defaults_and_consts() -> None:
    plan = RunbookPlan(
        id="fix",
        name="Fix",
        target_connection="{{ inputs.host }}-{{ consts.n }}",
        inputs=(InputPlan(name="host", default="web"),),
        consts={"n": "01"},
    )
    assert resolve(plan).connection == "web-01"


def test_b_template_naming_nothing_known_is_an_error_not_a_fallback() -> None:
    with pytest.raises(InvalidInputError) as err:
        resolve(inputs={"host": "web-09"}, inc=incident(description="web-01 is down"))
    message = str(err.value)
    assert "template '{{ inputs.host }}' rendered 'web-09'" in message
    assert "no connection has that name or host" in message
    assert "POST /v1/connections" in message


def test_b_template_that_cannot_render_is_an_error_naming_the_template() -> None:
    with pytest.raises(InvalidInputError) as err:
        resolve(runbook("{{ incident.ci }}"), incident(description="web-01 is down"))
    message = str(err.value)
    assert "target template '{{ incident.ci }}' cannot be rendered" in message
    assert "no attribute 'ci'" in message


def test_b_template_naming_an_http_connection_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match="kind http"):
        resolve(inputs={"host": "flags"})


def test_b_empty_template_result_falls_through() -> None:
    target = resolve(inputs={"host": ""}, inc=incident(description="web-01 is down"))
    assert target.connection == "web-01"


# --- c. the incident's ci_association ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("db-01", "db-01"),
        (["unknown-host", "10.0.0.5"], "10.0.0.5"),
        ({"name": "nope", "host": "web-01.prod.example"}, "web-01.prod.example"),
        ([{"ci": "db-01"}], "db-01"),
    ],
)
def test_c_ci_association_names_a_connection_or_host(value: Any, named: str) -> None:
    target = resolve(inc=incident(custom_fields={"ci_association": value}))
    assert target.rule == f"the incident's ci_association (custom fields) names '{named}'"
    assert target.connection in ("db-01", "web-01")


def test_c_custom_fields_come_before_enrichments_and_beat_the_description() -> None:
    inc = incident(
        description="web-01 is down",
        custom_fields={"ci_association": "db-01"},
        enrichments={"ci_association": "web-01"},
    )
    assert resolve(inc=inc).connection == "db-01"
    inc = incident(description="web-01 is down", enrichments={"ci_association": "db-01"})
    target = resolve(inc=inc)
    assert (target.connection, target.rule) == (
        "db-01",
        "the incident's ci_association (enrichments) names 'db-01'",
    )


def test_c_a_ci_association_naming_nothing_known_falls_through() -> None:
    inc = incident(description="web-01 is down", custom_fields={"ci_association": "mainframe"})
    assert resolve(inc=inc).connection == "web-01"


def test_c_skips_connections_that_do_not_run_commands() -> None:
    inc = incident(custom_fields={"ci_association": "flags"})
    assert resolve(inc=inc).rule == LOCAL_RULE


# --- d. names in the description or the service ----------------------------------------------


def test_d_a_name_in_the_description() -> None:
    target = resolve(inc=incident(description="Since 10:00 web-01 answers 502."))
    assert target == SessionTarget(
        connection="web-01",
        host="web-01.prod.example",
        rule="'web-01' appears in the incident's description",
    )


def test_d_a_host_in_the_description_ending_a_sentence() -> None:
    target = resolve(inc=incident(description="Disk full on 10.0.0.5."))
    assert (target.connection, target.rule) == (
        "db-01",
        "'10.0.0.5' appears in the incident's description",
    )


@pytest.mark.parametrize(
    "description",
    ["web-011 is down", "xweb-01 is down", "see web-01.prod.example.org", "sub.10.0.0.5 down"],
)
def test_d_only_whole_words_count(description: str) -> None:
    assert resolve(inc=incident(description=description)).rule == LOCAL_RULE


def test_d_the_earliest_mention_wins() -> None:
    target = resolve(inc=incident(description="db-01 first, then web-01"))
    assert target.connection == "db-01"


def test_d_the_service_names_a_connection_before_the_description() -> None:
    target = resolve(inc=incident(service="WEB-01", description="db-01 is slow"))
    assert (target.connection, target.rule) == ("web-01", "the incident's service is 'WEB-01'")


def test_d_a_local_connection_in_the_description_runs_on_the_worker() -> None:
    target = resolve(inc=incident(description="the worker is unhappy"))
    assert (target.connection, target.host) == (None, None)
    assert target.rule == (
        "'worker' appears in the incident's description: connection 'worker' is local, "
        "so commands run on the worker"
    )


# --- e. nothing matched ------------------------------------------------------------------------


def test_e_nothing_matched_runs_locally() -> None:
    target = resolve(inc=incident(description="checkout is down"))
    assert target == SessionTarget(connection=None, host=None, rule=LOCAL_RULE)
    assert target.rule == "no connection matched the incident: commands run on the worker (local)"


def test_e_no_connections_at_all() -> None:
    assert resolve(inc=incident(description="web-01"), connections=[]).rule == LOCAL_RULE


# --- a runbook without a target ------------------------------------------------------------------


def test_a_runbook_without_target_runs_locally_whatever_the_incident_says() -> None:
    inc = incident(description="web-01 is down", custom_fields={"ci_association": "db-01"})
    target = resolve(runbook(None), inc)
    assert target == SessionTarget(rule=NO_TARGET_RULE)


def test_a_runbook_without_target_refuses_a_requested_connection() -> None:
    with pytest.raises(InvalidInputError, match="runbook 'fix' has no target"):
        resolve(runbook(None), requested="web-01")
