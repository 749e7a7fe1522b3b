"""Import many rows (a CSV upload, a file given to the CLI) in chunks, one result per row.

Valid rows are ingested `chunk_size` at a time, each chunk in one transaction; invalid
rows are reported and never stop the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Literal

from ingest.csv_rows import CsvRow, FieldError
from ingest.model import GenericIncident
from services.ingestion import IngestOutcome, IngestService

CHUNK_SIZE = 200

RowStatus = Literal["created", "updated", "unchanged", "error"]


@dataclass(frozen=True)
class RowResult:
    row: int
    status: RowStatus
    incident_id: str | None = None
    source_ref: str | None = None
    errors: tuple[FieldError, ...] = ()


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)

    def count(self, status: RowStatus) -> int:
        return sum(1 for result in self.rows if result.status == status)

    @property
    def failed(self) -> list[RowResult]:
        return [result for result in self.rows if result.status == "error"]


async def import_rows(
    ingest: IngestService,
    rows: Iterable[CsvRow],
    *,
    org_id: str,
    actor: str,
    chunk_size: int = CHUNK_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Ingest every valid row; `on_progress(n)` after each chunk of n rows."""
    report = ImportReport()
    for chunk in _chunks(rows, chunk_size):
        report.rows.extend(await _import_chunk(ingest, chunk, org_id=org_id, actor=actor))
        if on_progress is not None:
            on_progress(len(chunk))
    return report


def _chunks(rows: Iterable[CsvRow], size: int) -> Iterator[list[CsvRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


async def _import_chunk(
    ingest: IngestService, chunk: list[CsvRow], *, org_id: str, actor: str
) -> list[RowResult]:
    valid: list[tuple[int, GenericIncident]] = [
        (row.number, row.incident) for row in chunk if row.incident is not None
    ]
    outcomes = await ingest.ingest_many(
        org_id=org_id, actor=actor, incidents=[incident for _, incident in valid]
    )
    by_number = dict(zip((number for number, _ in valid), outcomes, strict=True))
    return [_result(row, by_number.get(row.number)) for row in chunk]


def _result(row: CsvRow, outcome: IngestOutcome | None) -> RowResult:
    if outcome is None:
        return RowResult(row.number, "error", None, row.source_ref, tuple(row.errors))
    return RowResult(row.number, outcome.status, outcome.incident_id, outcome.source_ref)
