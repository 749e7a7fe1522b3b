"""What every ticketing provider does after opening a ticket: link it to the incident."""

from __future__ import annotations

from activities.deps import ActivityDeps
from activities.errors import as_activity_failure
from store.incidents import link_ticket
from workflows.models import ProviderCallInput


async def link_opened_ticket(
    deps: ActivityDeps, call: ProviderCallInput, *, system: str, ticket_id: str, url: str
) -> None:
    """The new ticket joins the incident's external refs (a retried step links it once)."""
    if call.incident_id is None:
        return
    ref = {"system": system, "id": ticket_id, "url": url}
    with as_activity_failure(f"link ticket {ticket_id} to incident {call.incident_id}"):
        async with deps.db.session() as session:
            await link_ticket(
                session,
                org_id=call.org,
                incident_id=call.incident_id,
                ref=ref,
                actor=f"workflow:{call.workflow_id}",
            )
