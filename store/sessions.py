"""The index of runbook sessions (table runbook_sessions): which org, incident and runbook.

A session's progress lives in its Temporal workflow; a row says that it exists, who
started it and how it was set up. Sessions of one (org, incident, runbook) are numbered
1, 2, ... in the order they started.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import utcnow
from store.models import RunbookSessionModel
from store.rows import to_record

# Two starts that read the same highest number collide on the unique index; the loser
# reads again. More collisions than this in a row would mean something else is wrong.
NUMBERING_ATTEMPTS = 5


@dataclass(frozen=True)
class RunbookSessionRecord:
    session_id: str
    org_id: str
    incident_id: str | None
    runbook_id: str
    number: int
    requester: str
    plan_hash: str
    mode: str
    confidence: float
    target_connection: str | None
    target_rule: str
    created_at: datetime
    request_key: str | None = None


@dataclass(frozen=True)
class NewSession:
    """A session row but its id and number, which `insert_next` assigns."""

    org_id: str
    incident_id: str
    runbook_id: str
    requester: str
    plan_hash: str
    mode: str
    confidence: float
    target_connection: str | None
    target_rule: str
    request_key: str | None = None  # the start request's Idempotency-Key


class NumberingConflictError(RuntimeError):
    """Another start kept taking the same number: give up instead of looping."""


async def insert_next(
    session: AsyncSession, new: NewSession, session_id: Callable[[int], str]
) -> RunbookSessionRecord:
    """Insert `new` with the next number of its (org, incident, runbook).

    `session_id(n)` makes the row's id from its number. The insert runs in a savepoint,
    so a collision with a concurrent start leaves the caller's transaction usable.
    """
    for _ in range(NUMBERING_ATTEMPTS):
        number = await _highest_number(session, new) + 1
        record = RunbookSessionRecord(
            session_id=session_id(number), number=number, created_at=utcnow(), **asdict(new)
        )
        try:
            async with session.begin_nested():
                await session.execute(insert(RunbookSessionModel).values(**asdict(record)))
        except IntegrityError:
            continue
        return record
    raise NumberingConflictError(
        f"could not number a new session of runbook '{new.runbook_id}' for incident "
        f"'{new.incident_id}': {NUMBERING_ATTEMPTS} concurrent starts took the same number"
    )


async def find_started_by(
    session: AsyncSession, new: NewSession, since: datetime
) -> RunbookSessionRecord | None:
    """The session an earlier attempt of the same start request (its Idempotency-Key, by
    the same person, for the same incident and runbook) created after `since`."""
    if new.request_key is None:
        return None
    statement = (
        select(RunbookSessionModel)
        .where(
            RunbookSessionModel.org_id == new.org_id,
            RunbookSessionModel.request_key == new.request_key,
            RunbookSessionModel.incident_id == new.incident_id,
            RunbookSessionModel.runbook_id == new.runbook_id,
            RunbookSessionModel.requester == new.requester,
            RunbookSessionModel.created_at >= since,
        )
        .order_by(RunbookSessionModel.created_at.desc())
        .limit(1)
    )
    row = (await session.scalars(statement)).one_or_none()
    return to_record(RunbookSessionRecord, row) if row is not None else None


async def _highest_number(session: AsyncSession, new: NewSession) -> int:
    statement = select(func.max(RunbookSessionModel.number)).where(
        RunbookSessionModel.org_id == new.org_id,
        RunbookSessionModel.incident_id == new.incident_id,
        RunbookSessionModel.runbook_id == new.runbook_id,
    )
    return int(await session.scalar(statement) or 0)


async def list_sessions(
    session: AsyncSession,
    org_id: str,
    *,
    incident_id: str | None = None,
    runbook_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[RunbookSessionRecord]:
    """The org's sessions, newest first."""
    statement = select(RunbookSessionModel).where(RunbookSessionModel.org_id == org_id)
    if incident_id is not None:
        statement = statement.where(RunbookSessionModel.incident_id == incident_id)
    if runbook_id is not None:
        statement = statement.where(RunbookSessionModel.runbook_id == runbook_id)
    statement = (
        statement.order_by(
            RunbookSessionModel.created_at.desc(),
            RunbookSessionModel.number.desc(),
            RunbookSessionModel.session_id.desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.scalars(statement)).all()
    return [to_record(RunbookSessionRecord, row) for row in rows]


async def get_session(
    session: AsyncSession, org_id: str, session_id: str
) -> RunbookSessionRecord | None:
    """The session row, if it is the org's."""
    row = await session.get(RunbookSessionModel, session_id)
    if row is None or row.org_id != org_id:
        return None
    return to_record(RunbookSessionRecord, row)
