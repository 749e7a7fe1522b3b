"""Ingestion use case: a generic incident becomes events, idempotently (DESIGN §5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

IngestStatus = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class RawPayload:
    """The request body as received, kept (cut to a bounded size) for audit and replay."""

    body: bytes
    content_type: str | None = None
    delivery_id: str | None = None


@dataclass(frozen=True)
class IngestOutcome:
    incident_id: str
    status: IngestStatus
    message: str
    source_type: str
    source_ref: str
    events: tuple[str, ...] = ()
