"""Building the parts of a generic incident within the model's limits.

Every helper cuts or drops what would not fit (title 500, description 5000, 50 tags of
200, 100 custom fields, 20 links...), so a long vendor value never turns a good delivery
into a validation error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from ingest.model import (
    EvidenceItem,
    EvidenceLite,
    GenericIncident,
    Link,
    Metadata,
    SourceStatus,
    SourceType,
    TicketRef,
    Timeline,
)
from ingest.severity import Graded

ELLIPSIS = "…"
TITLE_LIMIT = 500
DESCRIPTION_LIMIT = 5000
# Below the model's 512 so that a ref always fits an evidence item's correlation key (500).
SOURCE_REF_LIMIT = 500
_SERVICE_LIMIT = 200
_SHORT_LIMIT = 100
_TEAM_LIMIT = 200
_TAG_LIMIT = 200
_MAX_TAGS = 50
_MAX_CUSTOM_FIELDS = 100
_MAX_LINKS = 20
_URL_LIMIT = 2000
_LABEL_LIMIT = 200
_NAME_LIMIT = 500
_MESSAGE_LIMIT = 5000


def cut(value: str, limit: int) -> str:
    """`value` stripped, ending in "…" when it had to be shortened to `limit` characters."""
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + ELLIPSIS


def cut_optional(value: str | None, limit: int) -> str | None:
    """`value` cut to `limit`, or None when it is absent or blank."""
    if value is None or not value.strip():
        return None
    return cut(value, limit)


def one_line(value: str, limit: int = _MESSAGE_LIMIT) -> str:
    return cut(" ".join(value.split()), limit)


def title(value: str) -> str:
    return cut(value, TITLE_LIMIT)


def description(*parts: str | None) -> str | None:
    """The non-empty parts, separated by a blank line, cut to the description limit."""
    joined = "\n\n".join(part.strip() for part in parts if part and part.strip())
    return cut(joined, DESCRIPTION_LIMIT) if joined else None


def source_ref(value: str) -> str:
    """The ref as is when it fits, else a prefix plus a hash of the whole (still unique)."""
    value = value.strip()
    if len(value) <= SOURCE_REF_LIMIT:
        return value
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
    return f"{value[: SOURCE_REF_LIMIT - len(digest) - 1]}#{digest}"


def label_hash(labels: Mapping[str, Any]) -> str:
    """A stable id for a label set: "labels:" + the first 32 hex of sha256 of the sorted labels."""
    canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"), default=str)
    return "labels:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def timeline(
    start: datetime | None, received_at: datetime, resolved_at: datetime | None
) -> Timeline:
    """A timeline that starts at the vendor's time (else when received) and stays ordered."""
    begin = start or _aware(received_at)
    if resolved_at is not None and resolved_at < begin:
        # Only when the payload contradicts itself or had no start: never fail the delivery.
        begin = resolved_at
    return Timeline(start=begin, resolved_at=resolved_at)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def absolute_url(url: str | None, base: str | None = None) -> str | None:
    """An absolute http(s) URL: `url` itself, or `url` joined onto an absolute `base`."""
    if not url:
        return None
    if _is_absolute(url):
        return url
    if base and _is_absolute(base):
        return urljoin(base, url)
    return None


def _is_absolute(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def links(candidates: Iterable[tuple[str | None, str]]) -> list[Link]:
    """Links from (url, label) pairs: absolute http(s) URLs only, each once, at most 20."""
    found: dict[str, Link] = {}
    for url, label in candidates:
        if url and _is_absolute(url) and len(url) <= _URL_LIMIT and url not in found:
            found[url] = Link(url=url.strip(), label=cut(label, _LABEL_LIMIT))
    return list(found.values())[:_MAX_LINKS]


def kv_tags(pairs: Mapping[str, Any]) -> list[str]:
    """ "key:value" tags from a mapping (values that are not text are skipped)."""
    tags = []
    for key, value in pairs.items():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            tags.append(f"{key}:{value}")
    return tags


def metadata(
    *,
    service: str | None = None,
    environment: str | None = None,
    region: str | None = None,
    team: str | None = None,
    tags: Iterable[str] = (),
    custom_fields: Mapping[str, Any] | None = None,
) -> Metadata:
    """Metadata cut to the model's limits; None values are left out of the custom fields."""
    unique_tags = list(dict.fromkeys(cut(tag, _TAG_LIMIT) for tag in tags if tag.strip()))
    fields = {key: value for key, value in (custom_fields or {}).items() if value not in (None, "")}
    return Metadata(
        service=cut_optional(service, _SERVICE_LIMIT),
        environment=cut_optional(environment, _SHORT_LIMIT),
        region=cut_optional(region, _SHORT_LIMIT),
        team=cut_optional(team, _TEAM_LIMIT),
        tags=unique_tags[:_MAX_TAGS],
        custom_fields=dict(list(fields.items())[:_MAX_CUSTOM_FIELDS]),
    )


def event(
    *,
    timestamp: datetime | None,
    name: str,
    message: str,
    correlation_key: str,
    event_id: str | None = None,
) -> EvidenceItem:
    """The one evidence event that describes a delivery (`event_id`: the vendor's, if any)."""
    extra = {"eventId": event_id} if event_id else {}
    return EvidenceItem.model_validate(
        {
            "timestamp": timestamp,
            "name": cut(name, _NAME_LIMIT),
            "message": one_line(message),
            "correlation_key": correlation_key,
            **extra,
        }
    )


def metric(*, name: str, value: float | str, correlation_key: str) -> EvidenceItem:
    """One metric sample the vendor reported with the alert (no timestamp: it sends none)."""
    return EvidenceItem(name=cut(name, _NAME_LIMIT), value=value, correlation_key=correlation_key)


def incident(
    *,
    source_type: SourceType,
    source_ref: str,
    title: str,
    timeline: Timeline,
    graded: Graded,
    status: SourceStatus | None,
    metadata: Metadata,
    links: list[Link],
    event: EvidenceItem,
    description: str | None = None,
    metrics: Sequence[EvidenceItem] = (),
    ticket: TicketRef | None = None,
) -> GenericIncident:
    """The generic incident of one delivery: `event` is its one evidence event."""
    return GenericIncident(
        source_type=source_type,
        source_ref=source_ref,
        title=title,
        description=description,
        timeline=timeline,
        severity=graded.severity,
        original_severity=graded.original,
        status=status,
        metadata=metadata,
        links=links,
        evidence_lite=EvidenceLite(events=[event], metrics=list(metrics)),
        ticket=ticket,
    )
