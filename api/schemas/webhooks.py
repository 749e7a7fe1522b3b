"""Bodies of the webhook configuration endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

from ingest.auth import AuthKind


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class WebhookConfigIn(_Camel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    auth: AuthKind
    secret: Annotated[str, StringConstraints(max_length=1024)] | None = None
    username: Annotated[str, StringConstraints(max_length=255)] | None = None
    header_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    rotate_url: bool = False


class WebhookConfigOut(_Camel):
    """Never carries the secret: only whether one is set."""

    model_config = ConfigDict(from_attributes=True, alias_generator=to_camel, populate_by_name=True)

    source: str
    url: str
    auth: AuthKind
    username: str | None
    header_name: str | None
    has_secret: bool
    signing: str | None
    updated_at: datetime
