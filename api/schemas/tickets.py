"""Query and bodies of the tickets view and of CI extraction."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.incidents import Query200
from api.schemas.vocabulary import SeverityWord, StatusWord
from ingest.model import SourceType
from store.incident_queries import DEFAULT_SORT, SORTS

Classification = Literal["false_positive", "true_positive", "uncertain"]
Text = Annotated[str, StringConstraints(max_length=20_000)]


class TicketListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: list[StatusWord] = Field(default_factory=list)
    severity: list[SeverityWord] = Field(default_factory=list)
    source: list[SourceType] = Field(default_factory=list)
    classification: list[Classification] = Field(default_factory=list)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    q: Query200 | None = None
    sort: str = Field(DEFAULT_SORT, pattern="^(" + "|".join(SORTS) + ")$")
    limit: int = Field(50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None


class ExtractCiIn(BaseModel):
    """A ticket's fields, as the runbook-automation documents name them."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(max_length=500)] | None = None
    description: Text | None = None
    service: Annotated[str, StringConstraints(max_length=255)] | None = None
    ci_association: str | list[str] | dict[str, Any] | None = None
    meta_data: dict[str, Any] = Field(default_factory=dict)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
