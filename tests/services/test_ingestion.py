"""IngestService: one incident per source key, and only the source's deltas as events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.schemas.incidents import IncidentSummaryOut
from core.errors import NotFoundError
from services.incidents import IncidentService
from services.ingest_plan import signal_key
from services.ingestion import IngestService, RawPayload
from store.db import Database
from store.enums import EventType, IncidentStatus, Severity
from tests.services.ingestion_helpers import (
    ACTOR,
    BASE,
    ORG,
    counts,
    events,
    generic,
    outbox_triggers,
    signals,
    snapshot,
    source_rows,
    with_metadata,
)

RESOLVED_AT = "2025-03-01T10:42:00+00:00"


@pytest.fixture
def service(db: Database) -> IngestService:
    return IngestService(db)


async def test_a_new_key_creates_an_incident_with_every_source_field(
    db: Database, service: IngestService
) -> None:
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())

    assert outcome.status == "created"
    assert (
        outcome.message == f"created incident {outcome.incident_id} (PAGERDUTY P123); 2 new signals"
    )
    assert (outcome.source_type, outcome.source_ref) == ("PAGERDUTY", "P123")
    assert outcome.events == (
        EventType.CREATED,
        EventType.SIGNAL_INGESTED,
        EventType.SIGNAL_INGESTED,
    )
    incident = await snapshot(db, outcome.incident_id)
    assert (incident.title, incident.description) == (
        "Checkout 5xx above 2%",
        "checkout returns 502",
    )
    assert (incident.severity, incident.original_severity, incident.status) == (
        "SEV2",
        "P2",
        "OPEN",
    )
    assert (incident.service, incident.environment, incident.team, incident.region) == (
        "checkout",
        "prod",
        "payments",
        "eu-west-1",
    )
    assert (incident.source_type, incident.source_ref) == ("PAGERDUTY", "P123")
    assert incident.started_at == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert incident.resolved_at is None
    assert incident.links == [{"url": "https://pd.example/incidents/P123", "label": "PagerDuty"}]
    assert incident.custom_fields == {"runbook": "rb-12", "priority": 2}
    assert incident.tags == ["checkout", "web"]
    assert await outbox_triggers(db, outcome.incident_id) == ["created"]


async def test_evidence_becomes_signals_with_a_content_key(
    db: Database, service: IngestService
) -> None:
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    metric, log = await signals(db, outcome.incident_id)
    metric_data = {
        "timestamp": "2025-03-01T09:59:00Z",
        "name": "http_5xx_ratio",
        "value": 0.031,
        "unit": "ratio",
    }
    assert metric == {
        "org_id": ORG,
        "incident_id": outcome.incident_id,
        "seq": 2,
        "project_id": None,
        "signal_type": "METRIC",
        "service_name": None,
        "environment": None,
        "source": "PAGERDUTY",
        "summary": "http_5xx_ratio",
        "ts": datetime(2025, 3, 1, 9, 59, tzinfo=UTC),  # the source's time, not the record's
        "trace_id": None,
        "correlation_key": None,
        "data": metric_data,
    }
    metric_event, log_event = (await events(db, outcome.incident_id))[1:3]
    assert metric_event.payload["key"] == signal_key("metrics", metric_data)
    assert (log["signal_type"], log["summary"], log["trace_id"], log["ts"]) == (
        "LOG",
        "upstream timed out",
        "abc123",
        log_event.ts,  # no time from the source: when it was recorded
    )
    assert log_event.payload["ts"] is None
    assert len(log_event.payload["key"]) == 16
    assert log_event.payload["key"] != metric_event.payload["key"]


async def test_a_source_that_says_resolved_creates_a_resolved_incident_at_its_time(
    db: Database, service: IngestService
) -> None:
    incident = generic(
        timeline={"start": "2025-03-01T10:00:00Z", "resolvedAt": RESOLVED_AT}, evidenceLite=None
    )
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=incident)

    assert outcome.events == (EventType.CREATED, EventType.STATUS_CHANGED)
    assert outcome.message.endswith("(PAGERDUTY P123); status OPEN → RESOLVED")
    created = await snapshot(db, outcome.incident_id)
    assert created.status == "RESOLVED"
    assert created.resolved_at == datetime.fromisoformat(RESOLVED_AT)
    assert await outbox_triggers(db, outcome.incident_id) == [
        "created",
        "status_changed",
        "resolved",
    ]


async def test_a_source_that_says_acknowledged_creates_an_investigating_incident(
    db: Database, service: IngestService
) -> None:
    outcome = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=generic(status="acknowledged", evidenceLite=None)
    )
    assert (await snapshot(db, outcome.incident_id)).status == "INVESTIGATING"
    assert await outbox_triggers(db, outcome.incident_id) == ["created", "status_changed"]


async def test_without_severity_the_incident_is_medium(
    db: Database, service: IngestService
) -> None:
    outcome = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=generic(severity=None, originalSeverity=None)
    )
    incident = await snapshot(db, outcome.incident_id)
    assert (incident.severity, incident.original_severity) == ("SEV3", "medium")


async def test_an_identical_repeat_writes_nothing(db: Database, service: IngestService) -> None:
    raw = RawPayload(b'{"id": "P123"}', "application/json", "delivery-1")
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(), raw=raw)
    before_counts, before_sources = await counts(db), await source_rows(db)

    repeat = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(), raw=raw)

    assert repeat.status == "unchanged"
    assert repeat.incident_id == first.incident_id
    assert repeat.events == ()
    assert repeat.message == "unchanged: nothing new since the last delivery"
    assert await counts(db) == before_counts
    assert await source_rows(db) == before_sources  # not even updated_at moved


async def test_a_later_resolve_appends_one_status_change_and_its_repeat_nothing(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    resolved = generic(
        status="resolved", timeline={"start": BASE["timeline"]["start"], "resolvedAt": RESOLVED_AT}
    )

    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=resolved)

    assert (outcome.status, outcome.events) == ("updated", (EventType.STATUS_CHANGED,))
    assert outcome.message == "updated: status OPEN → RESOLVED"
    incident = await snapshot(db, first.incident_id)
    assert (incident.status, incident.resolved_at) == (
        "RESOLVED",
        datetime.fromisoformat(RESOLVED_AT),
    )
    change = (await events(db, first.incident_id))[-1]
    assert change.payload == {
        "from": "OPEN",
        "to": "RESOLVED",
        "reason": "PAGERDUTY says resolved",
        "resolved_at": RESOLVED_AT,
        "source": "PAGERDUTY",  # triage counts a source's own resolves (transient alerts)
    }
    assert await outbox_triggers(db, first.incident_id, after_seq=3) == [
        "status_changed",
        "resolved",
    ]

    before = await counts(db)
    repeat = await service.ingest(org_id=ORG, actor=ACTOR, incident=resolved)
    assert (repeat.status, repeat.events) == ("unchanged", ())
    assert await counts(db) == before


async def test_a_resolve_without_a_source_time_uses_the_event_time(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(status="resolved"))
    last = (await events(db, first.incident_id))[-1]
    assert last.payload["resolved_at"] is None
    assert (await snapshot(db, first.incident_id)).resolved_at == last.ts


async def test_a_reopen_after_resolve_moves_the_incident_back_to_open(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(status="resolved"))

    reopened = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(status="open"))

    assert reopened.message == "updated: status RESOLVED → OPEN"
    incident = await snapshot(db, first.incident_id)
    assert (incident.status, incident.resolved_at) == ("OPEN", None)
    assert await outbox_triggers(db, first.incident_id, after_seq=4) == [
        "status_changed",
        "reopened",
    ]


async def test_a_reopened_and_acknowledged_source_goes_open_then_investigating(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(status="resolved"))
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(status="acknowledged"))
    assert outcome.events == (EventType.STATUS_CHANGED, EventType.STATUS_CHANGED)
    assert outcome.message == "updated: status RESOLVED → OPEN; status OPEN → INVESTIGATING"
    assert (await snapshot(db, first.incident_id)).status == "INVESTIGATING"


async def test_acknowledged_moves_an_open_incident_to_investigating(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(status="acknowledged"))
    assert outcome.message == "updated: status OPEN → INVESTIGATING"
    assert (await snapshot(db, first.incident_id)).status == "INVESTIGATING"
    assert await outbox_triggers(db, first.incident_id, after_seq=3) == ["status_changed"]


async def test_acknowledged_does_not_move_an_incident_a_person_took_further(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    for status in (IncidentStatus.INVESTIGATING, IncidentStatus.MITIGATED):
        await IncidentService(db).change_status(
            org_id=ORG, incident_id=first.incident_id, actor="alice", status=status
        )
    before = await counts(db)

    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(status="acknowledged"))

    assert (outcome.status, outcome.events) == ("unchanged", ())
    assert outcome.message == "unchanged: the incident already shows what the source says"
    assert (await snapshot(db, first.incident_id)).status == "MITIGATED"
    assert await counts(db) == before


async def test_a_severity_change_appends_one_severity_changed(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    critical = generic(severity="critical", originalSeverity="P1")

    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=critical)

    assert (outcome.events, outcome.message) == (
        (EventType.SEVERITY_CHANGED,),
        "updated: severity SEV2 → SEV1",
    )
    assert (await events(db, first.incident_id))[-1].payload == {
        "from": "SEV2",
        "to": "SEV1",
        "reason": "PAGERDUTY severity is now P1",
    }
    assert await outbox_triggers(db, first.incident_id, after_seq=3) == ["severity_changed"]
    repeat = await service.ingest(org_id=ORG, actor=ACTOR, incident=critical)
    assert repeat.status == "unchanged"


async def test_a_delivery_without_severity_keeps_the_severity(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    outcome = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=generic(severity=None, originalSeverity=None)
    )
    assert outcome.status == "unchanged"
    assert (await snapshot(db, first.incident_id)).severity == "SEV2"


async def test_an_unchanged_delivery_never_undoes_a_human_edit(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    await IncidentService(db).change_severity(
        org_id=ORG, incident_id=first.incident_id, actor="alice", severity=Severity.SEV4
    )
    await IncidentService(db).change_status(
        org_id=ORG, incident_id=first.incident_id, actor="alice", status=IncidentStatus.RESOLVED
    )

    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())

    assert outcome.status == "unchanged"
    incident = await snapshot(db, first.incident_id)
    assert (incident.severity, incident.status) == ("SEV4", "RESOLVED")


async def test_changed_fields_become_one_update_and_the_title_never_changes(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    links = [{"url": "https://grafana.example/d/1", "label": None}]
    later = generic(
        title="[Resolved] Checkout 5xx above 2%",
        description="checkout recovered",
        metadata=with_metadata(team="sre", region="us-east-1", service="checkout"),
        links=links,
    )

    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=later)

    assert outcome.events == (EventType.UPDATED,)
    assert outcome.message == "updated: description, team, region, links changed"
    assert (await events(db, first.incident_id))[-1].payload == {
        "changes": {
            "description": "checkout recovered",
            "team": "sre",
            "region": "us-east-1",
            "links": links,
        }
    }
    incident = await snapshot(db, first.incident_id)
    assert incident.title == "Checkout 5xx above 2%"
    assert (incident.description, incident.team, incident.region) == (
        "checkout recovered",
        "sre",
        "us-east-1",
    )
    assert incident.links == links
    assert await outbox_triggers(db, first.incident_id, after_seq=3) == ["updated"]


async def test_omitted_fields_neither_clear_nor_later_restore_a_value(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    bare = generic(description=None, metadata={}, links=[])
    assert (await service.ingest(org_id=ORG, actor=ACTOR, incident=bare)).status == "unchanged"
    incident = await snapshot(db, first.incident_id)
    assert (incident.description, incident.team) == ("checkout returns 502", "payments")
    # Saying again what it said before the omission is not news either.
    assert (await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())).status == "unchanged"


async def test_a_cancelled_incident_is_neither_resolved_nor_reopened_by_the_source(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(evidenceLite=None))
    await IncidentService(db).change_status(
        org_id=ORG, incident_id=first.incident_id, actor="alice", status=IncidentStatus.CANCELLED
    )
    outbox_before = await outbox_triggers(db, first.incident_id)
    resolved = generic(status="resolved", evidenceLite=None)

    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=resolved)

    assert (outcome.status, outcome.events) == ("updated", (EventType.SIGNAL_INGESTED,))
    assert outcome.message == (
        "updated: the incident is CANCELLED; the source's 'resolved' was recorded as a signal only"
    )
    incident = await snapshot(db, first.incident_id)
    assert (incident.status, incident.resolved_at) == ("CANCELLED", None)
    assert (await signals(db, first.incident_id))[-1]["summary"] == (
        "PAGERDUTY says resolved; not applied: the incident is CANCELLED"
    )
    assert await outbox_triggers(db, first.incident_id) == outbox_before  # starts no workflow
    assert (await service.ingest(org_id=ORG, actor=ACTOR, incident=resolved)).status == "unchanged"

    reopened = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=generic(status="open", evidenceLite=None)
    )
    assert reopened.message.endswith("the source's 'reopened' was recorded as a signal only")
    assert (await snapshot(db, first.incident_id)).status == "CANCELLED"


async def test_a_skipped_status_already_recorded_is_only_mentioned(
    db: Database, service: IngestService
) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(evidenceLite=None))
    await IncidentService(db).change_status(
        org_id=ORG, incident_id=first.incident_id, actor="alice", status=IncidentStatus.CANCELLED
    )
    for status in ("resolved", "open"):
        await service.ingest(
            org_id=ORG, actor=ACTOR, incident=generic(status=status, evidenceLite=None)
        )
    before = await counts(db)

    again = await service.ingest(
        org_id=ORG, actor=ACTOR, incident=generic(status="resolved", evidenceLite=None)
    )

    assert (again.status, again.events) == ("unchanged", ())
    assert (
        again.message
        == "unchanged: the incident is CANCELLED; the source's 'resolved' was not applied"
    )
    assert (await counts(db)).events == before.events


async def test_only_new_evidence_is_appended(db: Database, service: IngestService) -> None:
    first = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    evidence = {
        "metrics": BASE["evidenceLite"]["metrics"],
        "logs": [*BASE["evidenceLite"]["logs"], {"message": "pool exhausted"}],
        "events": [
            {"name": "deploy", "correlationKey": "rel-7"},
            {"name": "deploy", "correlationKey": "rel-7"},
        ],
    }

    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(evidenceLite=evidence))

    assert outcome.events == (EventType.SIGNAL_INGESTED, EventType.SIGNAL_INGESTED)
    assert outcome.message == "updated: 2 new signals"
    rows = await signals(db, first.incident_id)
    assert [s["summary"] for s in rows] == [
        "http_5xx_ratio",
        "upstream timed out",
        "pool exhausted",
        "deploy",
    ]
    assert rows[-1]["correlation_key"] == "rel-7"
    assert await outbox_triggers(db, first.incident_id, after_seq=3) == []  # signals start nothing
    keys = [
        e.payload["key"]
        for e in await events(db, first.incident_id)
        if e.type == "INCIDENT_SIGNAL_INGESTED"
    ]
    assert (await source_rows(db))[0]["signal_keys"] == keys


async def test_the_same_ref_in_another_org_is_another_incident(
    db: Database, service: IngestService
) -> None:
    ours = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    theirs = await service.ingest(org_id="globex", actor=ACTOR, incident=generic())

    assert theirs.status == "created"
    assert theirs.incident_id != ours.incident_id
    with pytest.raises(NotFoundError):
        await snapshot(db, theirs.incident_id, org_id=ORG)
    assert (await snapshot(db, theirs.incident_id, org_id="globex")).source_ref == "P123"
    # A resolve in one org leaves the other org's incident alone.
    await service.ingest(org_id="globex", actor=ACTOR, incident=generic(status="resolved"))
    assert (await snapshot(db, ours.incident_id)).status == "OPEN"


async def test_another_source_type_with_the_same_ref_is_another_incident(
    service: IngestService,
) -> None:
    pagerduty = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    datadog = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(sourceType="DATADOG"))
    assert datadog.status == "created" and datadog.incident_id != pagerduty.incident_id


async def test_on_commit_runs_only_after_a_commit_that_appended_events(db: Database) -> None:
    wakeups: list[str] = []
    service = IngestService(db, on_commit=lambda: wakeups.append("wake"))
    await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    assert wakeups == ["wake"]
    await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    assert wakeups == ["wake"]
    await service.ingest(org_id=ORG, actor=ACTOR, incident=generic(status="resolved"))
    assert wakeups == ["wake", "wake"]


async def test_the_api_shape_exposes_the_source_fields(
    db: Database, service: IngestService
) -> None:
    outcome = await service.ingest(org_id=ORG, actor=ACTOR, incident=generic())
    body = IncidentSummaryOut.model_validate(await snapshot(db, outcome.incident_id)).model_dump(
        mode="json"
    )
    assert {name: body[name] for name in ("team", "region", "source_type", "source_ref")} == {
        "team": "payments",
        "region": "eu-west-1",
        "source_type": "PAGERDUTY",
        "source_ref": "P123",
    }
    assert body["started_at"] == "2025-03-01T10:00:00Z"
    assert body["links"] == [{"url": "https://pd.example/incidents/P123", "label": "PagerDuty"}]
    assert body["custom_fields"] == {"runbook": "rb-12", "priority": 2}
