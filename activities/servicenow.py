"""The `servicenow` provider: open an incident, or (with `ticket_id`) update, note, resolve.

Both return `{ticket_id, sys_id, ticket_url, state}`, so `enrich_incident` reads the same
names as after a Jira step. An opened ticket joins the incident's external refs; a
retried step links it once (and the connector opens it once).

An update applies, in order: the field changes (state, urgency, impact, assignment group,
`fields`) in one PATCH, the work note, the comment, then the resolve. Each part is
idempotent on its own, so a retry after a partial failure repeats nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from activities.errors import as_activity_failure
from activities.tickets import link_opened_ticket
from connectors.servicenow import ServiceNowConnection, ServiceNowConnector, Ticket
from core.errors import NotFoundError, ProviderNotConfiguredError
from dsl.providers import SERVICENOW_CREATE_ONLY
from workflows.models import ProviderCallInput
from workflows.names import provider_activity

SERVICENOW_ACTIVITY = provider_activity("servicenow")
TICKET_SYSTEM = "servicenow"
_NAMED_FIELDS = (*SERVICENOW_CREATE_ONLY, "urgency", "impact", "assignment_group")


ServiceNowResolver = Callable[[str, str], Awaitable[ServiceNowConnection]]
"""(org_id, connection name) -> the org's stored connection, decrypted (services.connections)."""


class ServiceNowActivities:
    def __init__(self, deps: ActivityDeps, stored: ServiceNowResolver | None = None) -> None:
        self._deps = deps
        self._stored = stored

    @activity.defn(name=SERVICENOW_ACTIVITY)
    async def servicenow(self, call: ProviderCallInput) -> dict[str, Any]:
        name = call.connection or TICKET_SYSTEM
        with as_activity_failure(f"servicenow step '{call.step}' (connection '{name}')"):
            connector = ServiceNowConnector(await self._connection(call.org, name))
            if call.params.get("ticket_id"):
                ticket = await asyncio.to_thread(_update, connector, call)
                return ticket.as_result()
            ticket = await asyncio.to_thread(
                connector.create_incident,
                _fields(call.params),
                idempotency_key=call.idempotency_key,
            )
        await link_opened_ticket(
            self._deps, call, system=TICKET_SYSTEM, ticket_id=ticket.number, url=ticket.url
        )
        return ticket.as_result()

    async def _connection(self, org: str, name: str) -> ServiceNowConnection:
        """The providers file's connection of that name, else the org's stored one."""
        if self._deps.has_connection(name, TICKET_SYSTEM) or self._stored is None:
            settings = self._deps.connection(name, TICKET_SYSTEM).authentication
            return ServiceNowConnection.model_validate(settings)
        try:
            return await self._stored(org, name)
        except NotFoundError:
            raise ProviderNotConfiguredError(
                f"connection '{name}' is not configured: add it to the providers file, or "
                "create it for this organisation with POST /v1/connections (kind servicenow)"
            ) from None


def _update(connector: ServiceNowConnector, call: ProviderCallInput) -> Ticket:
    params, key = call.params, call.idempotency_key
    ref = str(params["ticket_id"])
    changes = _fields(params)
    if params.get("state") not in (None, ""):
        changes["state"] = str(params["state"])
    ticket = connector.update(ref, changes) if changes else connector.get(ref)
    if params.get("work_note"):
        ticket = connector.add_note(ticket.sys_id, str(params["work_note"]), idempotency_key=key)
    if params.get("comment"):
        ticket = connector.add_note(
            ticket.sys_id, str(params["comment"]), idempotency_key=f"{key}/comment", kind="comments"
        )
    if _truthy(params.get("resolve")):
        ticket = connector.resolve(
            ticket.sys_id,
            close_code=str(params["close_code"]),
            close_notes=str(params["close_notes"]),
        )
    return ticket


def _truthy(value: Any) -> bool:
    # A templated `resolve` arrives rendered, as text.
    return value is True or str(value).strip().lower() in ("true", "yes", "1")


def _fields(params: dict[str, Any]) -> dict[str, Any]:
    """The record fields a step sets: `fields` first, the named parameters over them."""
    fields = dict(params.get("fields") or {})
    fields.update({n: params[n] for n in _NAMED_FIELDS if params.get(n) not in (None, "")})
    return fields
