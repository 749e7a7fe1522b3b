"""`fireline servicenow import`: a first sync of an instance's incidents into Fireline.

Reads the `servicenow` connection (or the one named) from the providers file and writes
straight to the configured database; a running API's dispatcher starts the workflows.
Exit codes: 0 every record imported, 1 some records failed, 2 the connection or the
instance could not be used (records imported before that stay imported).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn

from connectors.errors import ConnectorError
from connectors.servicenow import ServiceNowConnection, ServiceNowConnector
from core.connections import Connections
from core.errors import FirelineError, describe_validation_error
from core.settings import Settings
from services.ingestion import IngestService
from services.servicenow_import import ImportSummary, ServiceNowImporter
from store.db import Database

EXIT_OK, EXIT_RECORDS_FAILED, EXIT_UNUSABLE = 0, 1, 2


def import_command(*, org: str, query: str, connection: str, page_size: int) -> int:
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    settings = Settings()
    try:
        connector = _connector(settings, connection)
        with _progress(err) as advance:
            summary = asyncio.run(_import(settings, connector, org, query, page_size, advance))
    except (ConnectorError, FirelineError) as error:
        err.print(escape(f"servicenow import: {error}"))
        return EXIT_UNUSABLE
    out.print(escape(_summary(summary, query)))
    for problem in summary.errors:
        err.print(escape(problem))
    return EXIT_RECORDS_FAILED if summary.errors else EXIT_OK


def _connector(settings: Settings, name: str) -> ServiceNowConnector:
    found = Connections.load(settings.resolved_providers_file).get(name, "servicenow")
    try:
        return ServiceNowConnector(ServiceNowConnection.model_validate(found.authentication))
    except ValidationError as error:
        detail = describe_validation_error(error, prefix=(name,))
        raise ConnectorError(f"invalid connection: {detail}", retryable=False) from None


async def _import(
    settings: Settings,
    connector: ServiceNowConnector,
    org: str,
    query: str,
    page_size: int,
    advance: Callable[[int], None],
) -> ImportSummary:
    db = Database(settings.resolved_database_url)
    try:
        await db.migrate()
        ingest = IngestService(db, max_stored_payload_bytes=settings.max_stored_payload_bytes)
        return await ServiceNowImporter(connector, ingest).run(
            org_id=org, query=query, page_size=page_size, on_progress=advance
        )
    finally:
        await db.dispose()


@contextmanager
def _progress(console: Console) -> Iterator[Callable[[int], None]]:
    """Records read so far (the total is not known up front); nothing when redirected."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("importing from ServiceNow: {task.completed} record(s)"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with progress:
        task = progress.add_task("import", total=None)
        yield lambda done: progress.advance(task, done)


def _summary(summary: ImportSummary, query: str) -> str:
    counts = summary.statuses
    return (
        f"ServiceNow incidents matching {query or 'everything'}: {summary.read} read: "
        f"{counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {summary.skipped} skipped (opened by Fireline), "
        f"{len(summary.errors)} with errors"
    )
