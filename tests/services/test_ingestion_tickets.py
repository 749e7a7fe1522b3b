"""IngestService: the vendor ticket an incident mirrors (`ticket`) is linked once."""

from __future__ import annotations

from typing import Any

import pytest

from services.ingestion import IngestService
from store import incidents
from store.db import Database
from store.enums import EventType
from tests.services.ingestion_helpers import ACTOR, ORG, events, generic, outbox_triggers, snapshot

FORM = "https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id=9d38"
TICKET = {"system": "servicenow", "id": "INC0010023", "url": FORM}


@pytest.fixture
def service(db: Database) -> IngestService:
    return IngestService(db)


def without_evidence(**overrides: Any) -> Any:
    return generic(evidenceLite=None, **overrides)


async def test_a_first_delivery_links_its_ticket_and_starts_only_the_created_workflows(
    db: Database, service: IngestService
) -> None:
    outcome = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=without_evidence(ticket=TICKET)
    )

    assert outcome.events == (EventType.CREATED, EventType.LINKED_TO_TICKET)
    assert "linked to servicenow ticket INC0010023" in outcome.message
    incident = await snapshot(db, outcome.incident_id)
    assert [{k: ref[k] for k in ("system", "id", "url")} for ref in incident.external_refs] == [
        TICKET
    ]
    assert incident.enrichments == {
        "ticket_type": "servicenow",
        "ticket_id": "INC0010023",
        "ticket_url": FORM,
    }
    assert await outbox_triggers(db, outcome.incident_id) == ["created"]


async def test_a_repeat_or_a_delivery_without_the_url_links_nothing_more(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=without_evidence(ticket=TICKET))
    repeat = await service.ingest(org_id=ORG, actor=ACTOR, incident=without_evidence(ticket=TICKET))
    no_url = {**TICKET, "url": None}
    urlless = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=without_evidence(ticket=no_url)
    )

    assert (repeat.status, repeat.events) == ("unchanged", ())
    assert (urlless.status, urlless.events) == ("unchanged", ())
    assert len(await events(db, first.incident_id)) == 2


async def test_a_new_url_for_the_ticket_links_it_again_in_place(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=without_evidence(ticket=TICKET))
    moved = {**TICKET, "url": "https://acme2.service-now.com/incident.do?sys_id=9d38"}

    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=without_evidence(ticket=moved))

    assert outcome.events == (EventType.LINKED_TO_TICKET,)
    incident = await snapshot(db, first.incident_id)
    assert [ref["url"] for ref in incident.external_refs] == [moved["url"]]
    assert incident.enrichments["ticket_url"] == moved["url"]
    assert await outbox_triggers(db, first.incident_id, after_seq=1) == []


async def test_a_ticket_a_person_already_linked_is_not_linked_again(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=without_evidence())
    async with db.session() as session:
        await incidents.link_ticket(
            session, org_id=ORG, incident_id=first.incident_id, ref=TICKET, actor="user:ann"
        )

    outcome = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=without_evidence(ticket=TICKET)
    )

    assert outcome.events == ()
    assert [e.type for e in await events(db, first.incident_id)] == [
        EventType.CREATED,
        EventType.LINKED_TO_TICKET,
    ]


async def test_without_a_ticket_nothing_is_linked(db: Database, service: IngestService) -> None:
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=without_evidence())

    assert outcome.events == (EventType.CREATED,)
    assert (await snapshot(db, outcome.incident_id)).external_refs == []
