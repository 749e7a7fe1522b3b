"""Programmatic Alembic: the scripts live in store/migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Revisions that project something new from events stored before them: after upgrading an
# existing database across one, every snapshot and timeline row is rebuilt from the events.
REBUILDING_REVISIONS = frozenset({"0005_timeline"})


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(connection: Connection) -> bool:
    """Run inside `AsyncConnection.run_sync`, on a connection already in a transaction.

    True when an existing database crossed a revision of REBUILDING_REVISIONS.
    """
    config = alembic_config(connection)
    before = MigrationContext.configure(connection).get_current_revision()
    command.upgrade(config, "head")
    if before is None:
        return False  # a new database: no events to project yet
    applied = ScriptDirectory.from_config(config).iterate_revisions("head", before)
    return any(revision.revision in REBUILDING_REVISIONS for revision in applied)
