"""Where a runbook session's commands run: the target connection, and the rule that chose it.

Pure: everything comes in as arguments. The first rule that applies wins:

a. the connection the caller named when starting the session;
b. the runbook's `target.connection` template, rendered over the incident, the inputs
   (defaults filled) and the constants: a non-empty result must be the name, else the
   host, of a connection; a result naming none, or a template that cannot be rendered,
   is an error (running on some other machine instead would be worse);
c. the incident's `ci_association` (custom fields first, then enrichments): a name, a
   list of names, or a mapping with `name` / `host` / `ci`, naming a connection or its host;
d. a connection whose name or host is the incident's service, or appears as a whole
   word in its description (the earliest mention wins);
e. none: the commands run on the worker (local).

A runbook without `target` runs every command locally (the linter requires
`connector: local` on each), so no rule applies to it. Only `ssh` and `local`
connections run commands; a `local` one resolves to no connection (the worker itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from core.errors import InvalidInputError
from dsl.runbook_plan import RunbookPlan
from dsl.templates import TemplateError, render_value
from services.connections import ConnectionKind, ConnectionView
from workflows.render_context import incident_view
from workflows.session_models import SessionTarget

COMMAND_KINDS = (ConnectionKind.SSH, ConnectionKind.LOCAL)
CI_ASSOCIATION_KEYS = ("ci_association", "ciAssociation")
_CI_MAPPING_KEYS = ("name", "host", "ci")
LOCAL_RULE = "no connection matched the incident: commands run on the worker (local)"
NO_TARGET_RULE = "the runbook has no target: its commands run on the worker (local)"
HOW_TO_CREATE = "create it with POST /v1/connections (kind ssh or local)"
# Connection names and host names are made of these; a mention is a whole word when
# none of them touches it (a trailing dot ends a sentence, not a host name).
_WORD = r"A-Za-z0-9_.\-"


def resolve_target(
    plan: RunbookPlan,
    incident: Mapping[str, Any],
    inputs: Mapping[str, Any],
    connections: Sequence[ConnectionView],
    requested: str | None,
) -> SessionTarget:
    """The session's target; InvalidInputError when the requested or templated one is wrong."""
    if plan.target_connection is None:
        if requested is not None:
            raise InvalidInputError(
                f"connection: runbook '{plan.id}' has no target, so every command runs on "
                "the worker; start it without 'connection'"
            )
        return SessionTarget(rule=NO_TARGET_RULE)
    if requested is not None:
        return _requested(requested, connections)
    templated = _from_template(plan, incident, inputs, connections)
    if templated is not None:
        return templated
    return target_from_incident(incident, connections) or SessionTarget(rule=LOCAL_RULE)


def _requested(name: str, connections: Sequence[ConnectionView]) -> SessionTarget:
    found = by_name(name, connections)
    if found is None:
        raise InvalidInputError(
            f"connection: no connection named '{name}' in this organisation; {HOW_TO_CREATE}, "
            "or start the session without 'connection' to let the runbook choose"
        )
    _check_runs_commands(found, f"connection: '{name}'")
    return _target(found, f"connection '{name}' named when the session was started")


def _from_template(
    plan: RunbookPlan,
    incident: Mapping[str, Any],
    inputs: Mapping[str, Any],
    connections: Sequence[ConnectionView],
) -> SessionTarget | None:
    template = plan.target_connection
    assert template is not None
    value = _rendered(plan, template, incident, inputs)
    if value is None:
        return None
    found = by_name(value, connections) or by_host(value, connections)
    if found is None:
        raise InvalidInputError(
            f"target: the runbook's target template '{template}' rendered '{value}' and no "
            f"connection has that name or host; {HOW_TO_CREATE}, or name one in the start "
            "body ('connection')"
        )
    _check_runs_commands(found, f"target: '{value}' (from the template '{template}')")
    how = "" if found.name.casefold() == value.casefold() else f", the host of '{found.name}'"
    return _target(found, f"the runbook's target template '{template}' gave '{value}'{how}")


def _rendered(
    plan: RunbookPlan, template: str, incident: Mapping[str, Any], inputs: Mapping[str, Any]
) -> str | None:
    context = {
        "incident": incident_view(dict(incident)),
        "inputs": _with_defaults(plan, inputs),
        "consts": dict(plan.consts),
    }
    try:
        value = render_value(template, context)
    except TemplateError as err:
        raise InvalidInputError(
            f"target: the runbook's target template '{template}' cannot be rendered for this "
            f"incident ({err.reason}); give the input it reads, or name a connection in the "
            "start body ('connection')"
        ) from None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidInputError(
            f"target: the runbook's target template '{template}' gave a "
            f"{type(value).__name__}, not a connection name"
        )
    return value.strip() or None


def _with_defaults(plan: RunbookPlan, inputs: Mapping[str, Any]) -> dict[str, Any]:
    filled = dict(inputs)
    for declared in plan.inputs:
        if filled.get(declared.name) is None and declared.default is not None:
            filled[declared.name] = declared.default
    return filled


def target_from_incident(
    incident: Mapping[str, Any], connections: Sequence[ConnectionView]
) -> SessionTarget | None:
    usable = [c for c in connections if c.kind in COMMAND_KINDS]
    return _from_ci_association(incident, usable) or _from_mentions(incident, usable)


def _from_ci_association(
    incident: Mapping[str, Any], connections: Sequence[ConnectionView]
) -> SessionTarget | None:
    for where, value in ci_associations(incident):
        for candidate in ci_names(value):
            found = by_name(candidate, connections) or by_host(candidate, connections)
            if found is not None:
                rule = f"the incident's ci_association ({where}) names '{candidate}'"
                return _target(found, rule)
    return None


def ci_associations(incident: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for where in ("custom_fields", "enrichments"):
        fields = incident.get(where)
        if not isinstance(fields, Mapping):
            continue
        for key in CI_ASSOCIATION_KEYS:
            if fields.get(key) is not None:
                yield where.replace("_", " "), fields[key]


def ci_names(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.strip():
            yield value.strip()
    elif isinstance(value, Mapping):
        for key in _CI_MAPPING_KEYS:
            yield from ci_names(value.get(key))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from ci_names(item)


def _from_mentions(
    incident: Mapping[str, Any], connections: Sequence[ConnectionView]
) -> SessionTarget | None:
    service = incident.get("service")
    if isinstance(service, str) and service.strip():
        found = by_name(service.strip(), connections) or by_host(service.strip(), connections)
        if found is not None:
            return _target(found, f"the incident's service is '{service.strip()}'")
    description = incident.get("description")
    if not isinstance(description, str):
        return None
    mentions = [
        (position, connection, word)
        for connection in connections
        for word in _names_of(connection)
        if (position := mention(word, description)) is not None
    ]
    if not mentions:
        return None
    _, found, word = min(mentions, key=lambda m: (m[0], m[1].name))
    return _target(found, f"'{word}' appears in the incident's description")


def _names_of(connection: ConnectionView) -> list[str]:
    return [connection.name] + ([connection.host] if connection.host else [])


def mention(word: str, text: str) -> int | None:
    pattern = rf"(?<![{_WORD}]){re.escape(word)}(?![A-Za-z0-9_\-]|\.[A-Za-z0-9_\-])"
    found = re.search(pattern, text, re.IGNORECASE)
    return found.start() if found else None


def by_name(value: str, connections: Sequence[ConnectionView]) -> ConnectionView | None:
    return next((c for c in connections if c.name.casefold() == value.casefold()), None)


def by_host(value: str, connections: Sequence[ConnectionView]) -> ConnectionView | None:
    matches = [c for c in connections if c.host and c.host.casefold() == value.casefold()]
    # Several connections to one host: prefer one that runs commands, then the first name.
    matches.sort(key=lambda c: (c.kind not in COMMAND_KINDS, c.name))
    return matches[0] if matches else None


def _check_runs_commands(connection: ConnectionView, label: str) -> None:
    if connection.kind not in COMMAND_KINDS:
        raise InvalidInputError(
            f"{label} is a connection of kind {connection.kind.value}; runbook commands run "
            "over ssh or locally: use an ssh or local connection"
        )


def _target(connection: ConnectionView, rule: str) -> SessionTarget:
    if connection.kind == ConnectionKind.LOCAL:
        return SessionTarget(
            rule=f"{rule}: connection '{connection.name}' is local, so commands run on the worker"
        )
    return SessionTarget(connection=connection.name, host=connection.host, rule=rule)
