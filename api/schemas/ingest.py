"""Response bodies of the ingestion endpoints (camelCase, like the generic schema)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from services.bulk_import import ImportReport, RowResult, RowStatus
from services.ingestion import IngestOutcome, IngestStatus


class _Output(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class IngestOut(_Output):
    """The ingestion guide's response, plus the events the delivery appended."""

    incident_id: str
    evidence_bundle_id: str | None  # null: the delivery had no evidence and no sourcePayload
    # The triage this delivery started (GET /v1/incidents/{id}/triage); null when it
    # started none: an update, or triage switched off.
    analysis_id: str | None = None
    status: IngestStatus
    message: str
    events: list[str]

    @classmethod
    def of(cls, outcome: IngestOutcome) -> IngestOut:
        return cls(
            incident_id=outcome.incident_id,
            evidence_bundle_id=outcome.evidence_bundle_id,
            analysis_id=outcome.analysis_id,
            status=outcome.status,
            message=outcome.message,
            events=list(outcome.events),
        )


class RowErrorOut(_Output):
    field: str
    message: str


class CsvRowOut(_Output):
    """One data row's result; `row` is 1 for the first row after the header."""

    row: int
    status: RowStatus
    incident_id: str | None = None
    source_ref: str | None = None
    errors: list[RowErrorOut] | None = None

    @classmethod
    def of(cls, result: RowResult) -> CsvRowOut:
        return cls(
            row=result.row,
            status=result.status,
            incident_id=result.incident_id,
            source_ref=result.source_ref,
            errors=[RowErrorOut(field=e.field, message=e.message) for e in result.errors] or None,
        )


class CsvImportOut(_Output):
    total: int
    created: int
    updated: int
    unchanged: int
    errors: int
    rows: list[CsvRowOut]

    @classmethod
    def of(cls, report: ImportReport) -> CsvImportOut:
        return cls(
            total=report.total,
            created=report.count("created"),
            updated=report.count("updated"),
            unchanged=report.count("unchanged"),
            errors=report.count("error"),
            rows=[CsvRowOut.of(result) for result in report.rows],
        )
