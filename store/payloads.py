"""Raw delivery bodies kept for audit and replay, cut at a configured size."""

from __future__ import annotations

import codecs
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import IngestPayloadModel
from store.records import StoredPayload
from store.rows import to_record
from store.sql import insert_rows

__all__ = ["StoredPayload", "add", "bounded_text", "list_recent"]

_CONTENT_TYPE_CHARS = 100
_DELIVERY_ID_CHARS = 255


def bounded_text(body: bytes, max_bytes: int) -> tuple[str, bool]:
    """The body as text (invalid UTF-8 replaced) from at most `max_bytes` bytes, and
    whether it was cut. A character split by the cut is dropped, not replaced."""
    truncated = len(body) > max_bytes
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return decoder.decode(body[:max_bytes], final=not truncated), truncated


async def add(
    session: AsyncSession,
    *,
    org_id: str,
    source_type: str,
    delivery_id: str | None,
    incident_ids: list[str],
    received_at: datetime,
    content_type: str | None,
    body: bytes,
    max_bytes: int,
) -> None:
    """Insert the payload row in the caller's transaction."""
    text, truncated = bounded_text(body, max_bytes)
    row = {
        "org_id": org_id,
        "source_type": source_type,
        "delivery_id": delivery_id[:_DELIVERY_ID_CHARS] if delivery_id else delivery_id,
        "incident_ids": list(incident_ids),
        "received_at": received_at,
        "content_type": content_type[:_CONTENT_TYPE_CHARS] if content_type else content_type,
        "size": len(body),
        "truncated": truncated,
        "body": text,
    }
    await insert_rows(session, IngestPayloadModel, [row])


async def list_recent(session: AsyncSession, org_id: str, limit: int = 50) -> list[StoredPayload]:
    """The org's payloads, newest first."""
    statement = (
        select(IngestPayloadModel)
        .where(IngestPayloadModel.org_id == org_id)
        .order_by(IngestPayloadModel.id.desc())
        .limit(limit)
    )
    return [to_record(StoredPayload, row) for row in (await session.scalars(statement)).all()]
