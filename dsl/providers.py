"""The provider catalog: which providers exist and which parameters each one takes.

Checks are static: they look at the keys of `with` and at literal values; a template
value is accepted wherever it could render to the right thing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dsl.durations import parse_duration
from dsl.templates import is_template

ConfigRule = Literal["required", "optional", "none"]
ValueShape = Literal["any", "list", "mapping"]

_HINTS = {
    "enrich_alert": "Fireline enriches incidents, not alerts: use enrich_incident",
}


@dataclass(frozen=True)
class Parameter:
    name: str
    required: bool = False
    shape: ValueShape = "any"
    default: Any = None  # filled into the plan when the author leaves it out
    choices: tuple[str, ...] = ()
    alias_of: str | None = None  # a Keep spelling of another parameter


@dataclass(frozen=True)
class ProviderType:
    name: str
    parameters: tuple[Parameter, ...]
    config: ConfigRule
    # Requirements that depend on which parameters are given (jira create vs update).
    requirements: Callable[[Mapping[str, Any]], list[str]] | None = None
    _by_name: dict[str, Parameter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {p.name: p for p in self.parameters})

    @property
    def needs_config(self) -> bool:
        return self.config == "required"

    @property
    def parameter_names(self) -> list[str]:
        return sorted(self._by_name)

    def parameter(self, name: str) -> Parameter | None:
        return self._by_name.get(name)

    def unknown_parameter_message(self, name: str) -> str:
        known = ", ".join(self.parameter_names)
        message = f"unknown parameter '{name}' for provider '{self.name}'"
        if name in _HINTS:
            return f"{message}: {_HINTS[name]}"
        close = difflib.get_close_matches(name, self.parameter_names, n=1)
        if close:
            message += f"; did you mean '{close[0]}'?"
        return f"{message} (known: {known})"

    def value_problems(self, params: Mapping[str, Any]) -> dict[str, str]:
        """Problems with given values, by parameter name (unknown names excluded)."""
        problems: dict[str, str] = {}
        for name, value in params.items():
            parameter = self.parameter(name)
            if parameter is None:
                continue
            problem = _value_problem(parameter, value) or self._alias_clash(parameter, params)
            if problem:
                problems[name] = problem
        return problems

    def missing_requirements(self, params: Mapping[str, Any]) -> list[str]:
        given = {self._canonical(name) for name in params}
        missing = [
            f"provider '{self.name}' needs parameter '{p.name}'"
            for p in self.parameters
            if p.required and p.name not in given
        ]
        if self.requirements is not None:
            missing.extend(self.requirements(params))
        return missing

    def normalized(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Parameters as the activity receives them: aliases renamed, defaults filled."""
        result = {self._canonical(name): value for name, value in params.items()}
        for parameter in self.parameters:
            if parameter.default is not None:
                result.setdefault(parameter.name, parameter.default)
        return result

    def _canonical(self, name: str) -> str:
        parameter = self.parameter(name)
        return parameter.alias_of if parameter and parameter.alias_of else name

    def _alias_clash(self, parameter: Parameter, params: Mapping[str, Any]) -> str | None:
        if parameter.alias_of and parameter.alias_of in params:
            return f"give '{parameter.alias_of}' or '{parameter.name}', not both"
        return None


def _value_problem(parameter: Parameter, value: Any) -> str | None:
    if isinstance(value, str) and is_template(value):
        return None
    if parameter.shape == "list" and not isinstance(value, list):
        return f"parameter '{parameter.name}' must be a list"
    if parameter.shape == "mapping" and not isinstance(value, dict):
        return f"parameter '{parameter.name}' must be a mapping"
    if parameter.choices and str(value).upper() not in parameter.choices:
        return f"parameter '{parameter.name}' must be one of {', '.join(parameter.choices)}"
    return None


# What an update of an existing ticket can change; activities/jira.py passes exactly these.
JIRA_UPDATE_FIELDS = ("summary", "description", "labels", "transition_to", "comment")
_JIRA_CREATE_ONLY = (
    "project_key",
    "board_name",
    "issue_type",
    "priority",
    "components",
    "custom_fields",
)


def _jira_requirements(params: Mapping[str, Any]) -> list[str]:
    if "issue_id" in params:
        create_only = [name for name in _JIRA_CREATE_ONLY if name in params]
        if create_only:
            return [
                f"jira with issue_id updates an issue, which cannot set {', '.join(create_only)}; "
                "those only apply when creating (without issue_id)"
            ]
        if any(name in params for name in JIRA_UPDATE_FIELDS):
            return []
        return [
            "jira with issue_id updates an issue: give at least one of "
            + ", ".join(JIRA_UPDATE_FIELDS)
        ]
    missing = []
    if "project_key" not in params and "board_name" not in params:
        missing.append(
            "jira needs 'project_key' (or Keep's 'board_name') to create an issue; "
            "give 'issue_id' to update one instead"
        )
    if "summary" not in params:
        missing.append(
            "jira needs 'summary' to create an issue; give 'issue_id' to update one instead"
        )
    return missing


# ServiceNow: `ticket_id` (a number or sys_id) selects update; activities/servicenow.py.
SERVICENOW_CREATE_ONLY = ("short_description", "description", "category", "caller_id", "cmdb_ci")
SERVICENOW_UPDATE_ONLY = ("state", "work_note", "comment", "resolve", "close_code", "close_notes")
SERVICENOW_SHARED = ("urgency", "impact", "assignment_group", "fields")


def _servicenow_requirements(params: Mapping[str, Any]) -> list[str]:
    if "ticket_id" not in params:
        problems = [
            f"servicenow: '{name}' only applies when updating an incident (with ticket_id)"
            for name in SERVICENOW_UPDATE_ONLY
            if name in params
        ]
        in_fields = params.get("fields", params.get("payload"))
        if "short_description" not in params and not (
            isinstance(in_fields, Mapping) and "short_description" in in_fields
        ):
            problems.append(
                "servicenow needs 'short_description' to create an incident; give "
                "'ticket_id' to update one instead"
            )
        return problems
    create_only = [name for name in SERVICENOW_CREATE_ONLY if name in params]
    if create_only:
        return [
            f"servicenow with ticket_id updates an incident, which cannot set "
            f"{', '.join(create_only)}; those only apply when creating (without ticket_id)"
        ]
    if not any(name in params for name in (*SERVICENOW_UPDATE_ONLY, *SERVICENOW_SHARED)):
        return [
            "servicenow with ticket_id updates an incident: give at least one of "
            + ", ".join((*SERVICENOW_UPDATE_ONLY, *SERVICENOW_SHARED))
        ]
    resolving = params.get("resolve") not in (None, False)
    missing = [name for name in ("close_code", "close_notes") if name not in params]
    if resolving and missing:
        return [f"servicenow: resolve needs {' and '.join(missing)} (ServiceNow requires them)"]
    return []


_HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

# The `db` provider (activities/db.py, connectors/sql.py).
DB_MAX_ROWS = 10_000
DB_MAX_TIMEOUT_SECONDS = 3600.0
_BIND_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _db_requirements(params: Mapping[str, Any]) -> list[str]:
    """Literal values only: a template may render to anything, the activity checks it."""
    problems = []
    query = params.get("query")
    if isinstance(query, str) and is_template(query):
        problems.append(
            "db: 'query' must be literal SQL, not a template: write :name in the query and "
            "give the value in 'params' (values are bound, never pasted into SQL)"
        )
    elif query is not None and not isinstance(query, str):
        problems.append("db: 'query' must be SQL text")
    bind_params = params.get("params")
    if isinstance(bind_params, dict):
        problems += [
            f"db: params name '{name}' cannot be a bind parameter; use letters, digits and _"
            for name in bind_params
            if not (isinstance(name, str) and _BIND_NAME.fullmatch(name))
        ]
    return problems + _db_literal_problems(params)


def _db_literal_problems(params: Mapping[str, Any]) -> list[str]:
    def literal(name: str) -> Any:
        value = params.get(name)
        return None if isinstance(value, str) and is_template(value) else value

    problems = []
    write, max_rows, timeout = literal("write"), literal("max_rows"), literal("timeout")
    if write is not None and not isinstance(write, bool):
        problems.append("db: 'write' must be true or false")
    whole = isinstance(max_rows, int) and not isinstance(max_rows, bool)
    if max_rows is not None and not (whole and 1 <= max_rows <= DB_MAX_ROWS):
        problems.append(f"db: 'max_rows' must be a whole number from 1 to {DB_MAX_ROWS}")
    if timeout is not None:
        try:
            seconds = parse_duration(timeout)
        except ValueError as err:
            problems.append(f"db: 'timeout': {err}")
        else:
            if not 0 < seconds <= DB_MAX_TIMEOUT_SECONDS:
                problems.append(
                    f"db: 'timeout' must be more than 0 and at most {DB_MAX_TIMEOUT_SECONDS:g}s"
                )
    return problems


PROVIDERS: Mapping[str, ProviderType] = {
    provider.name: provider
    for provider in (
        ProviderType(
            name="jira",
            config="required",
            requirements=_jira_requirements,
            parameters=(
                Parameter("project_key"),
                Parameter("board_name", alias_of="project_key"),
                Parameter("summary"),
                Parameter("description"),
                Parameter("issue_type"),
                Parameter("priority"),
                Parameter("labels", shape="list"),
                Parameter("components", shape="list"),
                Parameter("custom_fields", shape="mapping"),
                Parameter("issue_id"),
                Parameter("transition_to"),
                Parameter("comment"),
            ),
        ),
        ProviderType(
            name="servicenow",
            # Optional: without a providers-file entry an org's stored connection is used
            # (activities/servicenow.py), so a missing one is known only when the step runs.
            config="optional",
            requirements=_servicenow_requirements,
            parameters=(
                Parameter("ticket_id"),
                *(Parameter(name) for name in SERVICENOW_CREATE_ONLY),
                *(Parameter(name) for name in ("urgency", "impact", "assignment_group")),
                Parameter("fields", shape="mapping"),
                Parameter("payload", shape="mapping", alias_of="fields"),  # Keep's name
                Parameter("table_name", choices=("INCIDENT",)),  # Keep's; incidents only
                *(Parameter(name) for name in SERVICENOW_UPDATE_ONLY),
            ),
        ),
        ProviderType(
            name="notify",
            config="none",
            parameters=(
                Parameter("message", required=True),
                Parameter("links", shape="list"),
                Parameter("title"),
                Parameter("severity"),
            ),
        ),
        ProviderType(
            name="slack",
            config="required",
            parameters=(
                Parameter("message", required=True),
                Parameter("blocks", shape="list"),
                Parameter("channel"),
                Parameter("username"),
                Parameter("icon_emoji"),
            ),
        ),
        ProviderType(
            name="http",
            config="optional",
            parameters=(
                Parameter("url", required=True),
                Parameter("method", default="GET", choices=_HTTP_METHODS),
                Parameter("headers", shape="mapping"),
                Parameter("params", shape="mapping"),
                Parameter("body"),
                Parameter("json"),
                Parameter("timeout"),
            ),
        ),
        ProviderType(
            name="db",
            config="none",
            requirements=_db_requirements,
            parameters=(
                Parameter("connection", required=True),
                Parameter("query", required=True),
                Parameter("params", shape="mapping"),
                Parameter("write", default=False),
                Parameter("max_rows", default=100),
                Parameter("timeout", default=30),
            ),
        ),
        ProviderType(
            name="enrich",
            config="none",
            parameters=(Parameter("enrichments", required=True, shape="mapping"),),
        ),
    )
}


def provider_type(name: str) -> ProviderType | None:
    return PROVIDERS.get(name)


def unknown_provider_message(name: str) -> str:
    return f"unknown provider type '{name}' (known: {', '.join(sorted(PROVIDERS))})"
