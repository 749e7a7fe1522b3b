"""`fireline runbook draft`: a runbook for the kind of incident at hand, from the database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from core.errors import FirelineError
from core.settings import Settings
from services.runbook_catalog import RunbookCatalog
from services.runbook_draft import RunbookDraft
from services.runbook_ranking import RunbookRanker
from services.triage_settings import TriageSettingsService
from services.workflow_registry import WorkflowRegistry
from store.db import Database

EXIT_OK, EXIT_FAILED = 0, 1


def draft_command(*, org: str, incident_id: str, out: Path | None) -> int:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        draft = asyncio.run(_draft(Settings(), org, incident_id))
    except FirelineError as error:
        err.print(escape(f"runbook draft: {error}"))
        return EXIT_FAILED
    if out is None:
        print(draft.yaml, end="")
        return EXIT_OK
    path = out / draft.file_name
    if path.exists():
        err.print(escape(f"runbook draft: {path} exists; move it or choose another --out"))
        return EXIT_FAILED
    path.write_text(draft.yaml)
    err.print(escape(f"wrote {path}: edit its TODO commands, then `fireline lint {path}`"))
    return EXIT_OK


async def _draft(settings: Settings, org: str, incident_id: str) -> RunbookDraft:
    db = Database(settings.resolved_database_url)
    try:
        await db.migrate()
        registry = WorkflowRegistry(settings.workflows_dir, settings.resolved_providers_file)
        registry.reload()  # the draft's id must not be one a loaded runbook has
        ranker = RunbookRanker(db, TriageSettingsService(db))
        return await RunbookCatalog(db, registry, ranker).draft(org, incident_id)
    finally:
        await db.dispose()
