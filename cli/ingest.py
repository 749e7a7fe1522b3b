"""`fireline ingest FILE`: import generic incidents from a .csv or .json file.

Writes straight to the configured database through IngestService; a running API's
dispatcher picks the new outbox rows up on its next poll.
Exit codes: 0 all rows imported, 1 some rows failed, 2 the file cannot be read at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from core.errors import BadRequestError
from core.settings import Settings
from ingest.csv_rows import CsvFileError, CsvRow, count_rows, decode_lines, read_json_incidents
from ingest.csv_rows import read_rows as read_csv_rows
from ingest.jsonbody import parse_json
from services.bulk_import import ImportReport, import_rows
from services.ingestion import IngestService
from store.db import Database

EXIT_OK, EXIT_ROWS_FAILED, EXIT_UNREADABLE = 0, 1, 2
JSON_MAX_DEPTH = 64


class UnreadableFileError(Exception):
    pass


@dataclass(frozen=True)
class RowSource:
    """Where the rows come from: how many there are, and a way to read them (once)."""

    total: int
    open_rows: Callable[[], AbstractContextManager[Iterator[CsvRow]]]


def ingest_command(path: Path, *, org: str, actor: str) -> int:
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        source = _row_source(path)
    except UnreadableFileError as error:
        err.print(f"{escape(str(path))}: {escape(str(error))}")
        return EXIT_UNREADABLE
    settings = Settings()
    with _progress(err, source.total) as advance:
        report = asyncio.run(_import(settings, source, org=org, actor=actor, advance=advance))
    out.print(escape(_summary(path, report)))
    for result in report.failed:
        for problem in result.errors:
            err.print(escape(f"{path}:row {result.row}: {problem}"))
    return EXIT_ROWS_FAILED if report.failed else EXIT_OK


def _row_source(path: Path) -> RowSource:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise UnreadableFileError("expected a .csv or .json file")
    try:
        return _csv_source(path) if suffix == ".csv" else _json_source(path)
    except OSError as error:
        raise UnreadableFileError(f"cannot be read ({error.strerror or error})") from None
    except (CsvFileError, BadRequestError) as error:
        raise UnreadableFileError(str(error)) from None


def _csv_source(path: Path) -> RowSource:
    with path.open("rb") as file:
        total = count_rows(decode_lines(file))  # checks header, encoding and syntax first

    @contextmanager
    def open_rows() -> Iterator[Iterator[CsvRow]]:
        with path.open("rb") as file:
            yield read_csv_rows(decode_lines(file))

    return RowSource(total, open_rows)


def _json_source(path: Path) -> RowSource:
    document = parse_json(
        path.read_bytes(), "application/json", max_depth=JSON_MAX_DEPTH, source="the file"
    )
    rows = list(read_json_incidents(document))
    return RowSource(len(rows), lambda: nullcontext(iter(rows)))


async def _import(
    settings: Settings,
    source: RowSource,
    *,
    org: str,
    actor: str,
    advance: Callable[[int], None],
) -> ImportReport:
    db = Database(settings.resolved_database_url)
    try:
        await db.migrate()
        service = IngestService(db, max_stored_payload_bytes=settings.max_stored_payload_bytes)
        with source.open_rows() as rows:
            return await import_rows(service, rows, org_id=org, actor=actor, on_progress=advance)
    finally:
        await db.dispose()


@contextmanager
def _progress(console: Console, total: int) -> Iterator[Callable[[int], None]]:
    """A bar of rows done out of `total` on a terminal; nothing when output is redirected."""
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with progress:
        task = progress.add_task("import", total=total)
        yield lambda done: progress.advance(task, done)


def _summary(path: Path, report: ImportReport) -> str:
    return (
        f"{path}: {report.total} row(s): {report.count('created')} created, "
        f"{report.count('updated')} updated, {report.count('unchanged')} unchanged, "
        f"{report.count('error')} with errors"
    )
