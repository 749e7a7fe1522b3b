"""Bodies of the incident form endpoints (the form-schema document's snake_case names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from services.form_schema import FormSchema
from services.forms import CurrentForm
from store.forms import FormSchemaVersion


class FormSchemaIn(FormSchema):
    """A whole form; `tenant_id`, as the document's example carries, is accepted and
    ignored: the org is always the token's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str | None = None

    def to_schema(self) -> FormSchema:
        return FormSchema(name=self.name, description=self.description, fields=self.fields)


class FormSchemaOut(BaseModel):
    version: int
    name: str
    description: str | None
    fields: list[dict[str, Any]]
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, form: CurrentForm) -> FormSchemaOut:
        return cls(
            version=form.version.version,
            name=form.schema.name,
            description=form.schema.description,
            fields=[field.model_dump(mode="json") for field in form.schema.fields],
            updated_by=form.version.changed_by,
            updated_at=form.version.changed_at,
        )


class FormVersionOut(BaseModel):
    version: int
    action: Literal["saved", "deleted"]
    name: str | None
    fields: list[dict[str, Any]] | None
    changed_by: str
    changed_at: datetime
    previous_version: int | None

    @classmethod
    def of(cls, version: FormSchemaVersion) -> FormVersionOut:
        return cls(
            version=version.version,
            action="deleted" if version.fields is None else "saved",
            name=version.name,
            fields=version.fields,
            changed_by=version.changed_by,
            changed_at=version.changed_at,
            previous_version=version.version - 1 if version.version > 1 else None,
        )


class FormHistoryOut(BaseModel):
    versions: list[FormVersionOut]
