"""Per-org incident forms: one current form, every change kept as a version.

`apply_form` is what incident creation calls: the values a person entered are checked
against the org's current form and completed with its defaults. Ingestion never calls it:
machine input is not held to a form made for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ConflictError, FieldErrors, NotFoundError
from core.ids import utcnow
from services.form_schema import FormField, FormSchema, checked_values, json_schema, schema_problems
from store import forms
from store.db import Database
from store.forms import FormSchemaVersion

# Each round of racing saves commits at least one, so N racing admins need at most N tries.
_SAVE_ATTEMPTS = 10


@dataclass(frozen=True)
class CurrentForm:
    version: FormSchemaVersion
    schema: FormSchema


class FormService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def current(self, *, org_id: str) -> CurrentForm:
        async with self._db.read_session() as session:
            found = await _current(session, org_id)
        if found is None:
            raise NotFoundError(
                "this organisation has no incident form; an ORG_ADMIN creates one with "
                "POST /v1/incidents/form-schema"
            )
        return found

    async def history(self, *, org_id: str) -> list[FormSchemaVersion]:
        async with self._db.read_session() as session:
            return await forms.history(session, org_id)

    async def json_schema(self, *, org_id: str) -> dict[str, Any]:
        async with self._db.read_session() as session:
            found = await _current(session, org_id)
        return json_schema(found.schema if found else None)

    async def save(
        self, *, org_id: str, actor: str, schema: FormSchema
    ) -> tuple[CurrentForm, bool]:
        """The new current form, and whether it is the org's first (none was current)."""
        problems = schema_problems(schema.fields)
        if problems:
            raise FieldErrors(problems)
        fields = [field.model_dump(mode="json", exclude_none=True) for field in schema.fields]
        for attempt in range(_SAVE_ATTEMPTS):
            try:
                async with self._db.session() as session:
                    version = await forms.add_version(
                        session,
                        org_id=org_id,
                        name=schema.name,
                        description=schema.description,
                        fields=fields,
                        changed_by=actor,
                        changed_at=utcnow(),
                    )
                    # Read the version this one follows, not the current one before the
                    # insert: a concurrent save may commit in between.
                    previous = await forms.get_version(session, org_id, version.version - 1)
                created = previous is None or previous.fields is None
                return CurrentForm(version, schema), created
            except IntegrityError:
                if attempt == _SAVE_ATTEMPTS - 1:
                    raise ConflictError("the form kept changing while saving; retry") from None
        raise AssertionError("unreachable")

    async def delete(self, *, org_id: str, actor: str) -> FormSchemaVersion:
        """Record a version without fields: creation stops checking enrichments."""
        async with self._db.session() as session:
            current = await _current(session, org_id)
            if current is None:
                raise NotFoundError("this organisation has no incident form to delete")
            return await forms.add_version(
                session,
                org_id=org_id,
                name=current.version.name,
                description=current.version.description,
                fields=None,
                changed_by=actor,
                changed_at=utcnow(),
            )


async def apply_form(
    session: AsyncSession, org_id: str, enrichments: Mapping[str, Any]
) -> dict[str, Any]:
    """The enrichments checked against the org's form with its defaults filled in;
    FieldErrors names every bad field. Without a form they are returned as given."""
    current = await _current(session, org_id)
    if current is None:
        return dict(enrichments)
    return checked_values(current.schema.fields, enrichments)


async def _current(session: AsyncSession, org_id: str) -> CurrentForm | None:
    latest = await forms.latest(session, org_id)
    if latest is None or latest.fields is None:
        return None
    schema = FormSchema(
        name=latest.name or "",
        description=latest.description,
        fields=[FormField.model_validate(field) for field in latest.fields],
    )
    return CurrentForm(latest, schema)
