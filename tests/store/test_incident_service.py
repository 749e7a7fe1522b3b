"""IncidentService: lifecycle rules and use cases, on every backend."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from core.errors import ConflictError, InvalidInputError, NotFoundError
from services.incident_timeline import IncidentTimelineService, NewAction, NewSignal
from services.incidents import IncidentService
from store.db import Database
from store.enums import IncidentStatus as S
from store.enums import Severity
from store.models import OutboxModel
from tests.store.helpers import count_rows


@pytest.fixture
def service(db: Database) -> IncidentService:
    return IncidentService(db)


async def new_incident(service: IncidentService, org_id: str = "acme") -> str:
    snapshot = await service.create(
        org_id=org_id, actor="alice", title="  Checkout 5xx  ", severity=Severity.SEV2
    )
    return snapshot.id


async def move(service: IncidentService, incident_id: str, status: S) -> str:
    snapshot = await service.change_status(
        org_id="acme", incident_id=incident_id, actor="bob", status=status
    )
    return snapshot.status


async def test_the_full_lifecycle_with_a_reopen(service: IncidentService) -> None:
    incident_id = await new_incident(service)
    path = [S.INVESTIGATING, S.MITIGATED, S.RESOLVED, S.OPEN, S.RESOLVED, S.OPEN, S.CANCELLED]
    assert [await move(service, incident_id, status) for status in path] == list(path)
    events = await service.timeline(org_id="acme", incident_id=incident_id)
    assert [(e.payload["from"], e.payload["to"]) for e in events[1:3]] == [
        ("OPEN", "INVESTIGATING"),
        ("INVESTIGATING", "MITIGATED"),
    ]


@pytest.mark.parametrize(
    ("path", "target", "message"),
    [
        (
            [S.INVESTIGATING, S.MITIGATED],
            S.OPEN,
            "from MITIGATED to OPEN; allowed: RESOLVED, CANCELLED",
        ),
        (
            [S.INVESTIGATING],
            S.INVESTIGATING,
            "already INVESTIGATING; allowed: MITIGATED, RESOLVED, CANCELLED",
        ),
        ([S.RESOLVED], S.CANCELLED, "from RESOLVED to CANCELLED; allowed: OPEN"),
        ([S.CANCELLED], S.OPEN, "from CANCELLED to OPEN; allowed: none, CANCELLED is final"),
    ],
)
async def test_invalid_transitions_name_the_allowed_targets(
    service: IncidentService, path: list[S], target: S, message: str
) -> None:
    incident_id = await new_incident(service)
    for status in path:
        await move(service, incident_id, status)
    with pytest.raises(ConflictError) as raised:
        await move(service, incident_id, target)
    assert message in str(raised.value)
    assert len(await service.timeline(org_id="acme", incident_id=incident_id)) == 1 + len(path)


async def test_concurrent_identical_status_changes_apply_once(service: IncidentService) -> None:
    incident_id = await new_incident(service)
    results = await asyncio.gather(
        *(move(service, incident_id, S.INVESTIGATING) for _ in range(4)), return_exceptions=True
    )
    assert results.count("INVESTIGATING") == 1
    assert all(isinstance(r, ConflictError) for r in results if r != "INVESTIGATING")


async def test_severity_change_and_same_severity_conflict(service: IncidentService) -> None:
    incident_id = await new_incident(service)
    changed = await service.change_severity(
        org_id="acme", incident_id=incident_id, actor="lead", severity=Severity.SEV1
    )
    assert (changed.severity, changed.original_severity) == ("SEV1", "SEV2")
    with pytest.raises(ConflictError, match="already SEV1"):
        await service.change_severity(
            org_id="acme", incident_id=incident_id, actor="lead", severity=Severity.SEV1
        )


async def test_create_with_enrichments_writes_an_enriched_event_but_one_outbox_row(
    db: Database, service: IncidentService
) -> None:
    snapshot = await service.create(
        org_id="acme",
        actor="alice",
        title="Payments down",
        severity=Severity.SEV1,
        service="payments",
        enrichments={"target_project": "PAY"},
    )
    events = await service.timeline(org_id="acme", incident_id=snapshot.id)
    assert [e.type for e in events] == ["INCIDENT_CREATED", "INCIDENT_ENRICHED"]
    assert (snapshot.title, snapshot.enrichments) == ("Payments down", {"target_project": "PAY"})
    async with db.read_session() as session:
        triggers = (await session.scalars(select(OutboxModel.trigger_event))).all()
    assert triggers == ["created"]


async def test_actions_signals_and_enrichments_land_on_the_snapshot(
    db: Database, service: IncidentService
) -> None:
    incident_id = await new_incident(service)
    timeline = IncidentTimelineService(db)
    action = NewAction(action_kind="COMMAND", label="restart", details={"exit": 0})
    await timeline.record_action(org_id="acme", incident_id=incident_id, actor="bot", action=action)
    signal = NewSignal(signal_type="METRIC", source="prom", summary="5xx 12%", trace_id="t-1")
    await timeline.add_signal(org_id="acme", incident_id=incident_id, actor="bot", signal=signal)
    snapshot = await service.enrich(
        org_id="acme", incident_id=incident_id, actor="bot", enrichments={"ticket_id": "OPS-9"}
    )
    details = await timeline.details(org_id="acme", incident_id=incident_id)
    assert [(a["action_kind"], a["label"], a["actor_ref"]) for a in details.actions] == [
        ("COMMAND", "restart", "bot")
    ]
    assert [(s["signal_type"], s["summary"], s["trace_id"]) for s in details.signals] == [
        ("METRIC", "5xx 12%", "t-1")
    ]
    assert snapshot.primary_signal_id == details.signals[0]["id"]
    assert snapshot.enrichments == {"ticket_id": "OPS-9"}
    async with db.read_session() as session:
        assert await count_rows(session, OutboxModel) == 1  # only "created"


async def test_bad_inputs_are_rejected(service: IncidentService) -> None:
    with pytest.raises(InvalidInputError, match="title"):
        await service.create(org_id="acme", actor="a", title="   ", severity=Severity.SEV3)
    incident_id = await new_incident(service)
    with pytest.raises(InvalidInputError, match="at least one"):
        await service.enrich(org_id="acme", incident_id=incident_id, actor="a", enrichments={})
    with pytest.raises(InvalidInputError, match="limit"):
        await service.list(org_id="acme", limit=0)


async def test_other_orgs_get_not_found_everywhere(service: IncidentService) -> None:
    incident_id = await new_incident(service, "acme")
    other = {"org_id": "globex", "incident_id": incident_id}
    with pytest.raises(NotFoundError):
        await service.get(**other)
    with pytest.raises(NotFoundError):
        await service.timeline(**other)
    with pytest.raises(NotFoundError):
        await service.change_status(**other, actor="x", status=S.INVESTIGATING)
    with pytest.raises(NotFoundError):
        await service.enrich(**other, actor="x", enrichments={"k": "v"})
    assert (await service.list(org_id="globex")).items == []
