"""Copy ORM rows into records: every record has exactly its table's columns."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect

from store.models import Base

RecordT = TypeVar("RecordT")


def row_values(row: Base) -> dict[str, Any]:
    return {attr.key: getattr(row, attr.key) for attr in inspect(type(row)).column_attrs}


def to_record(record_type: type[RecordT], row: Base) -> RecordT:
    return record_type(**row_values(row))
