"""Service tests run on SQLite always, and on PostgreSQL when FIRELINE_TEST_POSTGRES_URL is set."""

from tests.store.conftest import db

__all__ = ["db"]
