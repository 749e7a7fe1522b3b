"""One vocabulary: the ingestion words (`high`, `open`...) accepted wherever the incident
words (`SEV2`, `OPEN`...) are."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from ingest.model import SEVERITY_LEVEL, SourceStatus
from store.enums import IncidentStatus, Severity

STATUS_OF_SOURCE_STATUS = {
    SourceStatus.OPEN.value: IncidentStatus.OPEN.value,
    SourceStatus.ACKNOWLEDGED.value: IncidentStatus.INVESTIGATING.value,
    SourceStatus.RESOLVED.value: IncidentStatus.RESOLVED.value,
}
SEVERITY_OF_WORD = {word.value: level for word, level in SEVERITY_LEVEL.items()}


def _severity(value: Any) -> Any:
    return SEVERITY_OF_WORD.get(value, value) if isinstance(value, str) else value


def _status(value: Any) -> Any:
    return STATUS_OF_SOURCE_STATUS.get(value, value) if isinstance(value, str) else value


SeverityWord = Annotated[Severity, BeforeValidator(_severity)]
StatusWord = Annotated[IncidentStatus, BeforeValidator(_status)]
