"""Listing incidents: filters, sorts and keyset pagination that stays stable under inserts.

Each sort ends with the id, so the order is total and a cursor (the last row's sort-key
values) names one position: rows inserted while someone pages appear on one side of it,
never twice and never instead of a row that was there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from store.models import IncidentKeyModel, IncidentModel, IncidentSignalModel
from store.pagination import decode_cursor, encode_cursor
from store.records import IncidentFilters, IncidentPage, IncidentSnapshot
from store.rows import to_record

DEFAULT_SORT = "-created_at"
_CREATED = IncidentModel.created_at
_UPDATED = IncidentModel.updated_at
_SEVERITY = IncidentModel.severity
_ID = IncidentModel.id

# sort name → (column, descending) in order; SEV1 < SEV4 as text, so "severity" is SEV1 first.
SORTS: dict[str, tuple[tuple[InstrumentedAttribute[Any], bool], ...]] = {
    "created_at": ((_CREATED, False), (_ID, False)),
    "-created_at": ((_CREATED, True), (_ID, True)),
    "updated_at": ((_UPDATED, False), (_ID, False)),
    "-updated_at": ((_UPDATED, True), (_ID, True)),
    "severity": ((_SEVERITY, False), (_CREATED, True), (_ID, True)),
    "-severity": ((_SEVERITY, True), (_CREATED, True), (_ID, True)),
}
_KINDS = {_CREATED.key: datetime, _UPDATED.key: datetime, _SEVERITY.key: str, _ID.key: str}


async def list_snapshots(
    session: AsyncSession,
    org_id: str,
    filters: IncidentFilters,
    limit: int,
    cursor: str | None = None,
    sort: str = DEFAULT_SORT,
) -> IncidentPage:
    """One page in `sort` order; `cursor` continues after a previous page of the same sort."""
    keys = SORTS[sort]
    statement = (
        select(IncidentModel)
        .where(IncidentModel.org_id == org_id, *_filter_conditions(org_id, filters))
        .order_by(*(column.desc() if descending else column.asc() for column, descending in keys))
        .limit(limit + 1)
    )
    if cursor:
        values = decode_cursor(cursor, sort, [_KINDS[column.key] for column, _ in keys])
        statement = statement.where(_after(keys, values))
    rows = list((await session.scalars(statement)).all())
    items = [to_record(IncidentSnapshot, row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(sort, [getattr(last, column.key) for column, _ in keys])
    return IncidentPage(items=items, next_cursor=next_cursor)


def _after(keys: tuple[tuple[InstrumentedAttribute[Any], bool], ...], values: list[Any]) -> Any:
    """Rows strictly after the cursor: equal on the first i keys and beyond on key i."""
    alternatives = []
    for index, (column, descending) in enumerate(keys):
        equal = [keys[n][0] == values[n] for n in range(index)]
        beyond = column < values[index] if descending else column > values[index]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


def _filter_conditions(org_id: str, filters: IncidentFilters) -> list[Any]:
    conditions: list[Any] = []
    exact = {
        IncidentModel.service: filters.service,
        IncidentModel.environment: filters.environment,
        IncidentModel.project_id: filters.project_id,
    }
    conditions += [column == value for column, value in exact.items() if value]
    if filters.statuses:
        conditions.append(IncidentModel.status.in_(filters.statuses))
    if filters.severities:
        conditions.append(IncidentModel.severity.in_(filters.severities))
    if filters.triage_statuses:
        conditions.append(IncidentModel.triage_status.in_(filters.triage_statuses))
    if filters.source_types:
        conditions.append(IncidentModel.source_type.in_(filters.source_types))
    if filters.classifications:
        verdict = IncidentModel.triage["classification"]["verdict"].as_string()
        conditions.append(verdict.in_(filters.classifications))
    if filters.since:
        conditions.append(IncidentModel.created_at >= filters.since)
    if filters.until:
        conditions.append(IncidentModel.created_at < filters.until)
    if filters.tag:
        conditions.append(_has_key(org_id, "tag", filters.tag))
    if filters.correlation_key:
        conditions.append(_has_key(org_id, "correlation_key", filters.correlation_key))
    if filters.trace_id:
        conditions.append(_has_trace(org_id, filters.trace_id))
    if filters.text:
        conditions.append(
            or_(
                IncidentModel.title.icontains(filters.text, autoescape=True),
                IncidentModel.description.icontains(filters.text, autoescape=True),
            )
        )
    return conditions


def _has_key(org_id: str, kind: str, value: str) -> Any:
    return (
        select(IncidentKeyModel.incident_id)
        .where(
            IncidentKeyModel.org_id == org_id,
            IncidentKeyModel.kind == kind,
            IncidentKeyModel.value == value,
            IncidentKeyModel.incident_id == IncidentModel.id,
        )
        .exists()
    )


def _has_trace(org_id: str, trace_id: str) -> Any:
    return (
        select(IncidentSignalModel.seq)
        .where(
            IncidentSignalModel.org_id == org_id,
            IncidentSignalModel.trace_id == trace_id,
            IncidentSignalModel.incident_id == IncidentModel.id,
        )
        .exists()
    )
